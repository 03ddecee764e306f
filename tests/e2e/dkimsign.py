#!/usr/bin/python3
"""dkimsign -- DKIM keys and signatures for the end-to-end tests and the
benchmark, made with dkimpy (Debian: python3-dkim, python3-nacl): an
implementation independent of the libopendkim that mxgate verifies with.

  dkimsign.py genkey rsa|ed25519 PREFIX
      PREFIX.key: the private key; PREFIX.txt: the TXT record's text
      ("v=DKIM1; k=...; p=...")
  dkimsign.py sign KEYFILE rsa|ed25519 SELECTOR DOMAIN [HDR/BODY] [l] [sha1] < MESSAGE
      writes the message with a DKIM-Signature (sha256; canonicalization
      HDR/BODY, default relaxed/relaxed) in front, with CRLF line ends;
      "l": with a body length limit l= (the whole body); "sha1": rsa-sha1.
"""
import base64
import subprocess
import sys

import dkim


def genkey(alg, prefix):
    if alg == "rsa":
        pem = subprocess.run(["openssl", "genrsa", "2048"], check=True,
                             capture_output=True).stdout
        der = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"],
                             input=pem, check=True, capture_output=True).stdout
        key, txt = pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    elif alg == "ed25519":
        import nacl.signing
        sk = nacl.signing.SigningKey.generate()
        key = base64.b64encode(bytes(sk)) + b"\n"
        pub = base64.b64encode(bytes(sk.verify_key)).decode()
        txt = "v=DKIM1; k=ed25519; p=" + pub
    else:
        sys.exit("unknown algorithm " + alg)
    with open(prefix + ".key", "wb") as f:
        f.write(key)
    with open(prefix + ".txt", "w") as f:
        f.write(txt + "\n")


def sign(keyfile, alg, selector, domain, *opts):
    canon = next((o for o in opts if "/" in o), "relaxed/relaxed")
    msg = sys.stdin.buffer.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(keyfile, "rb") as f:
        key = f.read().strip()
    if alg == "ed25519":
        sigalg = b"ed25519-sha256"
    else:
        sigalg = b"rsa-sha1" if "sha1" in opts else b"rsa-sha256"
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                    canonicalize=tuple(c.encode() for c in canon.split("/")),
                    signature_algorithm=sigalg, length="l" in opts,
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"])
    sys.stdout.buffer.write(sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                            + msg)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "genkey":
        genkey(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 6 and sys.argv[1] == "sign":
        sign(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

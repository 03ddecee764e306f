"""smtpline -- read SMTP replies from a socket, for the e2e helpers
(mailflow.py, smtphold.py). Python 3 standard library only."""


class Closed(ConnectionError):
    """The server closed the connection."""


class Reader:
    """Lines of one connection, buffered."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def reply(self, echo=None):
        """One (possibly multi-line) reply: (code, last line as text).
        echo(line) is called for every line read."""
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Closed("closed by the server")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.rstrip(b"\r").decode("latin-1")
            if echo is not None:
                echo(text)
            if not (len(text) >= 4 and text[3] == "-"):
                return text[:3], text

#!/usr/bin/env python3
"""spf_suite.py SUITE.yml -- the RFC 7208 test suite as flat lines for
spf_conform: per section the zone (libunbound local data; TIMEOUT names
as zones resolved through a forwarder that never answers), then the cases.

Zone conventions are the suite drivers' (pyspf): an SPF entry is served
as TXT unless the name has a TXT entry of its own; NONE is no record; a
list is the strings of one record; CNAMEs are flattened (an alias serves
its target's records; a loop has none).
"""
import sys
import yaml


def pct(s):
    """percent-encode bytes outside 0x21-0x7e and '%' (fields are tab-split)"""
    out = []
    for b in s.encode('latin-1'):
        out.append('%%%02X' % b if b <= 0x20 or b >= 0x7f or b == 0x25
                   else chr(b))
    return ''.join(out) if out else '%'


def dname(name):
    """a name in zone-file text: unusual bytes as \\DDD, absolute"""
    out = []
    for b in name.encode('latin-1'):
        c = chr(b)
        out.append(c if c.isalnum() and b < 0x80 or c in '-_.' else '\\%03d' % b)
    s = ''.join(out)
    return s if s.endswith('.') else s + '.'


def txt(strings):
    """character-strings of one TXT record, each at most 255 bytes"""
    parts = []
    for s in strings:
        b = s.encode('latin-1')
        chunks = [b[i:i + 255] for i in range(0, len(b), 255)] or [b'']
        for ch in chunks:
            parts.append('"' + ''.join(
                chr(x) if 0x20 <= x < 0x7f and x not in (0x22, 0x5c)
                else '\\%03d' % x for x in ch) + '"')
    return ' '.join(parts)


def section(doc, out):
    zone = {k.lower().rstrip('.'): v for k, v in doc['zonedata'].items()}
    names = {k.lower().rstrip('.'): k for k in doc['zonedata']}

    def records(name, depth=0):
        recs = zone.get(name, [])
        for r in recs:
            if isinstance(r, dict) and 'CNAME' in r:
                if depth >= 8:
                    return []
                return records(r['CNAME'].lower().rstrip('.'), depth + 1)
        return recs

    out.append('section\t' + pct(doc.get('description', '?')))
    rrs = []
    for name in zone:
        recs = records(name)
        has_txt = any(isinstance(r, dict) and 'TXT' in r for r in recs)
        owner = dname(names[name])
        for r in recs:
            if r == 'TIMEOUT':
                out.append('timeout\t' + pct(dname(names[name])))
                continue
            for typ, val in r.items():
                if val == 'NONE':
                    continue
                if typ == 'SPF' and has_txt:
                    continue
                if typ in ('SPF', 'TXT'):
                    vals = val if isinstance(val, list) else [val]
                    vals = vals or ['']     # no strings: one empty one
                    rrs.append('%s 300 IN TXT %s' % (owner, txt(vals)))
                elif typ == 'MX':
                    rrs.append('%s 300 IN MX %d %s' % (owner, val[0],
                                                      dname(val[1])))
                elif typ in ('A', 'AAAA'):
                    rrs.append('%s 300 IN %s %s' % (owner, typ, val))
                elif typ == 'PTR':
                    rrs.append('%s 300 IN PTR %s' % (owner, dname(val)))
    out.extend('rr\t' + pct(r) for r in rrs)
    for name, t in doc['tests'].items():
        res = t['result']
        res = res if isinstance(res, list) else [res]
        out.append('\t'.join(['test', pct(name), pct(t.get('helo', '')),
                              pct(t['host']), pct(t.get('mailfrom', '')),
                              ','.join(res)]))
    out.append('end')


def main():
    with open(sys.argv[1], 'rb') as f:
        docs = list(yaml.safe_load_all(f))
    out = []
    for doc in docs:
        section(doc, out)
    sys.stdout.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()

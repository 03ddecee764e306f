#!/usr/bin/env python3
"""soakcount.py RESULTS.tsv MAILLOG [KILLS] -- the accounting of a soak
run (tests/e2e/t_soak.sh, tests/bench/soak.sh): what the client saw
(RESULTS.tsv, written by soakc.py send) against what Postfix delivered
(MAILLOG). KILLS: a file with the times (seconds since the epoch, one a
line) at which mxgate was killed.

From the maillog: cleanup's "QID: message-id=<ID>" ties a queue id to a
message; "QID: milter-header-warning: header Authentication-Results:
mx.e2e.test;" is mxgate's decision on QID (override the pattern with
SOAK_DECISION); the discard agent's "QID: to=<...>, ... status=sent" is a
delivery. Counts, printed one a line:

  delivered without mxgate's decision   every delivered queue id, the
                                        client's or not (must be 0)
  lost   a message neither delivered nor refused with a 4xx the client
         saw: accepted (250) but never delivered, no reply and never
         delivered, or refused with a 5xx (must be 0)

and, for the record: the outcomes per class and stage, the 4xx replies by
code and by whom (mxgate's carry a "(ref REF)"; Postfix's own, when mxgate
is unreachable, do not), messages refused with a 4xx but delivered all the same (the client
would send them twice), messages that got no reply but were delivered,
and the messages in DATA (DATA sent, final reply not yet seen) at a kill.
The last line is machine-readable:
  RESULT sent=N delivered=N undecided=N lost=N dup=N in_data_at_kill=N reused=N
where reused counts queue ids that cleanup gave to more than one message
(with short queue ids they come back; the soak sets long ones), for which
the per-queue-id counts would not be exact.
"""
import collections
import os
import re
import sys

DECISION = os.environ.get("SOAK_DECISION", r"Authentication-Results: mx\.e2e\.test;")


def read_maillog(path):
    """(message-id -> set of qids, decided qids, delivered qids, qids
    that cleanup gave to more than one message)"""
    by_mid = collections.defaultdict(set)
    mids_of = collections.defaultdict(set)
    decided, delivered = set(), set()
    re_mid = re.compile(r"cleanup\[\d+\]: ([0-9A-Za-z]+): message-id=<([^>]*)>")
    re_dec = re.compile(r" ([0-9A-Za-z]+): milter-header-warning: header "
                        + DECISION)
    re_sent = re.compile(r" ([0-9A-Za-z]+): to=<[^>]*>,.* status=sent ")
    with open(path, encoding="latin-1") as f:
        for line in f:
            m = re_mid.search(line)
            if m:
                by_mid[m.group(2)].add(m.group(1))
                mids_of[m.group(1)].add(m.group(2))
                continue
            m = re_dec.search(line)
            if m:
                decided.add(m.group(1))
                continue
            m = re_sent.search(line)
            if m:
                delivered.add(m.group(1))
    reused = {q for q, mids in mids_of.items() if len(mids) > 1}
    return by_mid, decided, delivered, reused


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: soakcount.py RESULTS.tsv MAILLOG [KILLS]")
    by_mid, decided, delivered, reused = read_maillog(sys.argv[2])
    kills = []
    if len(sys.argv) == 4 and os.path.exists(sys.argv[3]):
        with open(sys.argv[3], encoding="ascii") as f:
            kills = [float(x) for x in f.read().split()]
    classes = collections.Counter()
    stages = collections.Counter()
    codes = collections.Counter()
    lost = collections.Counter()
    who = collections.Counter()
    lost_ex, dup_ex = [], []
    dup = noreply_delivered = in_data = 0
    in_data_cls = collections.Counter()
    sent = 0
    with open(sys.argv[1], encoding="ascii") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 10:
                continue
            sent += 1
            mid, stage, code, cls, t_data, t_end = p[0], p[3], p[4], p[5], \
                float(p[7]), float(p[8])
            classes[cls] += 1
            stages[f"{cls} at {stage}"] += 1
            if cls == "tempfail":
                codes[" ".join(p[9].split()[:2])] += 1
                # mxgate's replies carry a ref; Postfix's own (mxgate
                # unreachable: milter_default_action) do not
                who["mxgate" if "(ref " in p[9] else "postfix"] += 1
            qids = by_mid.get(mid + "@soak.test", set())
            got = bool(qids & delivered)
            if cls == "accepted" and not got:
                lost["accepted (250) but not delivered"] += 1
                lost_ex.append(line.strip())
            elif cls == "noreply" and not got:
                lost["no reply and not delivered"] += 1
                lost_ex.append(line.strip())
            elif cls == "permfail" and not got:
                lost["refused with a 5xx"] += 1
                lost_ex.append(line.strip())
            elif cls == "tempfail" and got:
                dup += 1
                dup_ex.append(line.strip())
            elif cls == "noreply" and got:
                noreply_delivered += 1
            if t_data > 0 and any(t_data <= k <= t_end for k in kills):
                in_data += 1
                in_data_cls[f"{cls} {code}"] += 1
    undecided = sorted(delivered - decided)
    n_lost = sum(lost.values())
    print(f"sent: {sent} messages: "
          + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
    print("outcomes by stage: "
          + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())))
    print("4xx replies: "
          + ", ".join(f"{k} x{v}" for k, v in codes.most_common(12)))
    print(f"4xx from mxgate (a reply with a ref): {who['mxgate']}; from Postfix"
          f" itself (mxgate unreachable or gone): {who['postfix']}")
    print(f"delivered: {len(delivered)} queue ids "
          f"(of them with mxgate's decision: {len(delivered & decided)})")
    print(f"delivered without mxgate's decision: {len(undecided)}"
          + (" e.g. " + " ".join(undecided[:5]) if undecided else ""))
    print(f"lost (neither delivered nor refused with a 4xx the client saw): {n_lost}"
          + (" (" + ", ".join(f"{k} {v}" for k, v in lost.items()) + ")"
             if n_lost else ""))
    for ex in lost_ex[:5]:
        print("  lost: " + ex)
    print(f"refused with a 4xx but delivered (a retry would duplicate): {dup}")
    for ex in dup_ex[:5]:
        print("  dup: " + ex)
    print(f"no reply seen but delivered (a retry would duplicate): {noreply_delivered}")
    print(f"SIGKILLs: {len(kills)}; messages in DATA at a SIGKILL: {in_data}"
          + (" (" + ", ".join(f"{k} x{v}" for k, v in sorted(in_data_cls.items()))
             + ")" if in_data else ""))
    if reused:
        print(f"WARNING: {len(reused)} queue ids were given to several messages:"
              " the counts above are not exact for them (Postfix needs"
              " enable_long_queue_ids = yes)")
    print(f"RESULT sent={sent} delivered={len(delivered)} undecided={len(undecided)}"
          f" lost={n_lost} dup={dup} in_data_at_kill={in_data} reused={len(reused)}")


if __name__ == "__main__":
    main()

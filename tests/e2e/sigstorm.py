#!/usr/bin/env python3
"""sigstorm -- send a storm of SIGHUP and SIGUSR1 to one process, and
replace a rules file between some of them (mxgate end-to-end tests).

    sigstorm.py PID COUNT RULES VARIANT... 

Sends COUNT signals, SIGHUP and SIGUSR1 mixed at random, paced at random:
mostly one signal then a pause of 0-5 ms; sometimes a back-to-back pair
(SIGUSR1 then SIGHUP, as `kill -USR1 $pid; kill -HUP $pid`); sometimes a
burst of 5-30 with no pause; sometimes a gap of 20-200 ms. About every
150-300 signals it replaces RULES with one of the VARIANT files (written
beside it, then renamed over it: a reload never reads half a file); the
last replacement, made before the final 100 signals, is always the last
VARIANT given. Before each signal it checks that PID is still alive (and
not a zombie).

Prints one line: "sent N hup=N usr1=N rewrites=N last=FILE", or
"DEAD after N signals" (exit 1) when the process went away. Exit 2 on
usage errors. Python 3 standard library only.
"""

import os
import random
import shutil
import signal
import sys
import time


def alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def replace(rules, variant):
    """Put the variant's text in place of the rules file, atomically."""
    tmp = rules + ".storm-tmp"
    shutil.copyfile(variant, tmp)
    os.chmod(tmp, 0o644)
    os.rename(tmp, rules)


class Storm:
    """Counters and the one place that sends a signal."""

    def __init__(self, pid):
        self.pid = pid
        self.sent = self.hup = self.usr1 = 0

    def send(self, sig):
        """One signal; False when the process is gone."""
        if not alive(self.pid):
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        self.sent += 1
        if sig == signal.SIGHUP:
            self.hup += 1
        else:
            self.usr1 += 1
        return True


def main():
    """Parse arguments, run the storm, print the summary."""
    if len(sys.argv) < 5:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    pid, count, rules = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    variants = sys.argv[4:]
    rng = random.Random()
    storm = Storm(pid)
    rewrites, last = 0, None
    next_rewrite = rng.randint(150, 300)
    final_at = max(0, count - 100)
    while storm.sent < count:
        if storm.sent >= final_at and last != variants[-1]:
            last = variants[-1]
            replace(rules, last)
            rewrites += 1
        elif storm.sent >= next_rewrite and storm.sent < final_at:
            last = rng.choice(variants[:-1] or variants)
            replace(rules, last)
            rewrites += 1
            next_rewrite = storm.sent + rng.randint(150, 300)
        left = count - storm.sent
        roll = rng.random()
        if roll < 0.05:
            sigs = [rng.choice((signal.SIGHUP, signal.SIGUSR1))
                    for _ in range(min(left, rng.randint(5, 30)))]
        elif roll < 0.25 and left >= 2:
            sigs = [signal.SIGUSR1, signal.SIGHUP]
        else:
            sigs = [rng.choice((signal.SIGHUP, signal.SIGUSR1))]
        for sig in sigs:
            if not storm.send(sig):
                print("DEAD after %d signals" % storm.sent, flush=True)
                return 1
        if roll > 0.97:
            time.sleep(rng.uniform(0.02, 0.2))
        else:
            time.sleep(rng.uniform(0, 0.005))
    print("sent %d hup=%d usr1=%d rewrites=%d last=%s" %
          (storm.sent, storm.hup, storm.usr1, rewrites, last), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

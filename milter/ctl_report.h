/*
 * ctl_report -- `mxgatectl report [--since T] [--until T] [--html FILE]
 * [-n N] [LOGFILE...]`: the deferrals in mxgate's log files (plain or
 * gzip; standard input when none is given or for "-"), counted per rule,
 * DNS list, login, client network (/24, /64) and hour, with the most
 * recent refs; as text, as one JSON object (--json), and optionally as a
 * self-contained HTML page with an SVG chart (--html). Needs no daemon
 * and no mxgate.conf.
 *
 * ctl_report() parses the command's arguments (argv[0] is "report") and
 * returns a sysexits code: 0, 64 (usage: a bad option or time), 66 (a
 * log file cannot be opened), 65 (a gzip file is damaged), 73 (the HTML
 * file cannot be written), 74 (standard output cannot be written).
 * Errors go to standard error as "mxgatectl: report: ...".
 */
#ifndef MXGATE_CTL_REPORT_H
#define MXGATE_CTL_REPORT_H

int	ctl_report(int, char **, int);

#endif

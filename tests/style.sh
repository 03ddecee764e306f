#!/bin/sh
# style.sh -- STYLE.md rule 8: no strcpy/strcat/sprintf/vsprintf/strncpy/
# atoi/gets anywhere in the daemon's sources (compat/ may define them).
srcdir=${srcdir:-.}
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strncpy|atoi|atol|gets)[[:space:]]*\(' \
	"$srcdir"/milter/*.c "$srcdir"/milter/*.h 2>/dev/null)
if [ -n "$bad" ]; then
	echo "FAIL banned calls (use buf, snprintf, strlcpy or num_parse):"
	echo "$bad"
	exit 1
fi
echo "PASS no banned calls in milter/"

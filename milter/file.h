/*
 * file -- the one bounded reader of the files mxgate loads whole: rules
 * files (and their includes), list files and tables.
 *
 * file_read() reads a regular file in one go: its size from fstat, at
 * most max bytes, then exactly that many bytes. A file that is shorter
 * than its size said (short read), longer (it grew), or whose size,
 * mtime, inode or device differ between the open and the end of the
 * read (rewritten in place) is an error -- "PATH: error: changed while
 * being read" -- never a partial load: the caller refuses the load (exit
 * 78 at start, old rules kept on reload). A new version renamed into
 * place while an intact old one was read is read again (three tries;
 * renamed over every time: the same error).
 *
 * Thread-safe (no state but the test hook). file_set_hook() is for tests
 * only: the hook runs between the first fstat and the read.
 */
#ifndef MXGATE_FILE_H
#define MXGATE_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "buf.h"
#include "diag.h"

int	file_read(const char *, size_t, const char *, struct buf *,
	    struct stat *, struct diag *);
void	file_set_hook(void (*)(const char *));

#endif

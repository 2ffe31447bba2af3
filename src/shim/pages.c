/* Memory for the shim's tables: see pages.h. */
#include <sys/mman.h>

#include "pages.h"
#include "share.h"

void *
pages_map(size_t len)
{
	void *p;

	/* Shared with the monitor, which reads every table. */
	if (share_on())
		return share_alloc(len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
pages_unmap(void *p, size_t len)
{
	/* A hole in the shared arena would be one in every copy of it:
	 * free the pages, keep the mapping. */
	if (share_on())
		madvise(p, len, MADV_REMOVE);
	else
		munmap(p, len);
}

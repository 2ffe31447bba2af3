/* Arrays that grow: see grow.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

void *
grow(void *v, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap;
	void *p;

	if (need == 0)
		need = 1;	/* NULL says out of memory, never "none" */
	if (v != NULL && need <= n)
		return v;
	if (n < first)
		n = first;
	if (n == 0)
		n = 1;		/* zero would double forever */
	while (n < need) {
		if (n > SIZE_MAX / 2) {
			n = need;
			break;
		}
		n *= 2;
	}
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if ((p = realloc(v, n * size)) == NULL)
		return NULL;
	*cap = n;
	return p;
}

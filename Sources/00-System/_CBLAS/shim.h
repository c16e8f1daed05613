#include <cblas.h>
// Declared by OpenBLAS but not in every cblas.h: the thread count is part of a
// result's provenance, so it is set and read explicitly.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

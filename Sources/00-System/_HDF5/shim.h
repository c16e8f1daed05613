#include <hdf5.h>

// HDF5's type and property-list identifiers are macros that expand to library
// globals after H5open(); Swift cannot import them, so each is a function here.
static inline hid_t ggep_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t ggep_h5s_all(void) { return H5S_ALL; }
static inline hid_t ggep_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned ggep_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned ggep_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned ggep_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned ggep_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t ggep_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ggep_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ggep_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ggep_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t ggep_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t ggep_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ggep_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t ggep_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline size_t ggep_h5t_variable(void) { return H5T_VARIABLE; }
// Silences HDF5's own printing of its error stack; callers turn return codes into Swift errors.
static inline herr_t ggep_h5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

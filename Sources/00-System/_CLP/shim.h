// COIN-OR CLP's C interface (Debian: coinor-libclp-dev; pkg-config clp adds -I/usr/include/coin).
#include <Clp_C_Interface.h>

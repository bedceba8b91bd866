/* Placeholder until the port of src/shell/marks.ts lands. */
#include <stdlib.h>
#include "marks.h"

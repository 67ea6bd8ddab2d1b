/* The clance(1) manual page, generated from the same command tables that
 * drive argument parsing and --help, so the two cannot disagree. */
#ifndef CLANCE_CLI_MAN_H
#define CLANCE_CLI_MAN_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* Write the whole manual page (roff, man macros) to `out`: NAME, SYNOPSIS,
 * DESCRIPTION (`intro`, as in 'clance --help'), one COMMANDS subsection per
 * command (synopsis, summary, description, options), EXIT STATUS
 * (`exit_codes`), SEE ALSO. */
void cli_print_man(FILE *out, const cli_command *const *commands, size_t n, const char *intro,
                   const char *exit_codes);

#endif

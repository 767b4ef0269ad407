/*
 * ansible_module.h: sealift-apply as an Ansible binary module. Ansible copies a binary module
 * to the target and runs it with one argument, the path of a JSON file holding the task's
 * arguments; the module answers with one JSON object on stdout. The collection
 * (contrib/ansible) ships this binary as the modules sealift.migrate.apply, .status and
 * .verify, so no Python is needed on the target.
 */
#ifndef SEALIFT_APPLIER_ANSIBLE_MODULE_H
#define SEALIFT_APPLIER_ANSIBLE_MODULE_H

/* 1 when arg names a regular file whose first non-blank byte is '{' (an arguments file). */
int ansible_module_is_args_file(const char *arg);

/*
 * Run the module named by the arguments' "_ansible_module_name" (or, failing that, by
 * argv0's name, "AnsiballZ_apply" or "apply"), print its one JSON result, and return the
 * process exit code (0, or 1 when the result says failed).
 */
int ansible_module_main(const char *argv0, const char *args_path);

#endif

# VH_CC_CHECK_FLAGS_APPEND(VARIABLE, FLAGS)
# Appends to VARIABLE each of FLAGS that the C compiler accepts without a
# warning, as kmod's CC_CHECK_FLAGS_APPEND does: gcc and clang differ in
# which warnings they know, and -Werror must not turn that into a failure.
# A -Wno-X flag is probed as -WX, since compilers accept any -Wno-X silently.
AC_DEFUN([VH_CC_CHECK_FLAGS_APPEND], [
  for vh_flag in $2; do
    vh_probe=`AS_ECHO(["$vh_flag"]) | sed 's/^-Wno-/-W/'`
    AS_VAR_PUSHDEF([vh_cache], [vh_cv_cflag_$vh_probe])
    AC_CACHE_CHECK([whether $CC accepts $vh_flag], [vh_cache], [
      vh_save_CFLAGS=$CFLAGS
      CFLAGS="$CFLAGS -Werror $vh_probe"
      AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                        [AS_VAR_SET([vh_cache], [yes])], [AS_VAR_SET([vh_cache], [no])])
      CFLAGS=$vh_save_CFLAGS])
    AS_VAR_IF([vh_cache], [yes], [$1="$$1 $vh_flag"])
    AS_VAR_POPDEF([vh_cache])
  done
])

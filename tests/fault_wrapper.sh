#!/bin/sh
# A worker-command prefix for the farm tests: real process faults for chosen scenes.
#   TP3D_CRASH=scene_000001  -> that scene's worker exits with status 7 at once
#   TP3D_HANG=scene_000002   -> that scene's worker hangs (sleeps) until killed
#   TP3D_NO_EXEC=1           -> the worker runs as a child of this shell instead of replacing it, so
#                               the kernel's parent-death signal (sent to this shell) does not reach it:
#                               like a render started through a wrapper script
case "$*" in
  *"${TP3D_CRASH:-no-such-scene}"*) echo "error: injected crash" >&2; exit 7 ;;
  *"${TP3D_HANG:-no-such-scene}"*) exec sleep 600 ;;
esac
if [ -n "${TP3D_NO_EXEC:-}" ]; then
  "$@"
  exit $?
fi
exec "$@"

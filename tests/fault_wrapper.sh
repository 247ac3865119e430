#!/bin/sh
# A worker-command prefix for the farm tests: real process faults for chosen scenes.
#   TP3D_CRASH=scene_000001  -> that scene's worker exits with status 7 at once
#   TP3D_HANG=scene_000002   -> that scene's worker hangs (sleeps) until killed
case "$*" in
  *"${TP3D_CRASH:-no-such-scene}"*) echo "error: injected crash" >&2; exit 7 ;;
  *"${TP3D_HANG:-no-such-scene}"*) exec sleep 600 ;;
esac
exec "$@"

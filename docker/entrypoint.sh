#!/bin/sh
# The Fresco image's entrypoint: one image for serving and batch.
#   (no arguments)          -> fresco serve            (the default: a model server)
#   serve ...               -> fresco serve ...
#   batch ...               -> fresco batch ...        (e.g. batch score flights-delay@production ...)
#   models|plan|dataset|... -> fresco <command> ...    (any other fresco command)
#   sh|bash|node ...        -> that program            (debugging)
# In a Kubernetes Indexed Job, `batch score` without --shard gets
# --shard $JOB_COMPLETION_INDEX/$FRESCO_SHARD_COUNT when both variables are set, so the Job's
# manifest says the shard count once. FRESCO_BIN overrides the fresco executable (tests).
set -eu

FRESCO_BIN="${FRESCO_BIN:-fresco}"

if [ "$#" -eq 0 ]; then
  set -- serve
fi

case "$1" in
  sh|bash|node)
    exec "$@"
    ;;
  fresco)
    shift
    if [ "$#" -eq 0 ]; then set -- serve; fi
    ;;
esac

if [ "$1" = "batch" ] && [ "${2:-}" = "score" ]; then
  has_shard=no
  for arg in "$@"; do
    case "$arg" in
      --shard|--shard=*) has_shard=yes ;;
    esac
  done
  if [ "$has_shard" = no ] && [ -n "${JOB_COMPLETION_INDEX:-}" ] && [ -n "${FRESCO_SHARD_COUNT:-}" ]; then
    case "$JOB_COMPLETION_INDEX$FRESCO_SHARD_COUNT" in
      *[!0-9]*)
        echo "fresco entrypoint: JOB_COMPLETION_INDEX ($JOB_COMPLETION_INDEX) and FRESCO_SHARD_COUNT ($FRESCO_SHARD_COUNT) must be integers" >&2
        exit 2
        ;;
    esac
    if [ "$JOB_COMPLETION_INDEX" -ge "$FRESCO_SHARD_COUNT" ]; then
      echo "fresco entrypoint: JOB_COMPLETION_INDEX $JOB_COMPLETION_INDEX is not below FRESCO_SHARD_COUNT $FRESCO_SHARD_COUNT" >&2
      exit 2
    fi
    set -- "$@" --shard "$JOB_COMPLETION_INDEX/$FRESCO_SHARD_COUNT"
  fi
fi

exec "$FRESCO_BIN" "$@"

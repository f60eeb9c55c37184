#!/bin/sh
# Stand-in for the node-side aicloudctl (health, burnin, nccl), used only by
# test_interrupt_resume.sh to exercise the certify controller's Ctrl-C and
# --resume on a machine without GPUs. It prints the synthetic recorded
# outputs and, with STANDIN_SLOW_BURNIN=1, blocks in burnin until killed.
echo "$1" >> "$STANDIN_LOG"
case "$1" in
  health) cat "$STANDIN_FIXTURES/synthetic-h100-health-pass.json" ;;
  burnin)
    if [ "${STANDIN_SLOW_BURNIN:-0}" = 1 ]; then
      sleep 600 &
      echo $! > "$STANDIN_LOG.sleep-pid"
      wait
    fi
    cat "$STANDIN_FIXTURES/synthetic-h100-burnin-pass.json" ;;
  nccl) cat "$STANDIN_FIXTURES/synthetic-h100-nccl-intra-pass.json" ;;
  *) echo "stand-in: unknown command $1" >&2; exit 2 ;;
esac

#!/bin/sh
# A stand-in for OpenMPI's mpirun, for the --launcher mpirun test on machines
# without OpenMPI: reads "-np N", skips the options aicloudctl passes
# (--host, --map-by, --bind-to, -x) and starts N copies of the command with
# OMPI_COMM_WORLD_RANK set, as mpirun does on one node.
[ "$1" = "-np" ] || { echo "stand-in-mpirun: expected -np first" >&2; exit 2; }
np=$2
shift 2
while [ $# -gt 0 ]; do
  case "$1" in
    --host|--map-by|--bind-to|-x) shift 2 ;;
    *) break ;;
  esac
done
i=0
while [ "$i" -lt "$np" ]; do
  OMPI_COMM_WORLD_RANK=$i "$@" &
  i=$((i + 1))
done
wait

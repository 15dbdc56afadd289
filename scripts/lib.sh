# Shared by the timing scripts: source it after setting reps (the repetitions).

# best prints the best wall time, in seconds, of reps runs of a command.
best() {
  local b=999999 s e
  for _ in $(seq "$reps"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{print ($1 < b) ? $1 : b}')
  done
  echo "$b"
}

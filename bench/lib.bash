# Sourced by the benchmarks (bench/*.sh): where capsule is, and the statistics every table prints.
#   median / p90   of the numbers on stdin, one a line ("n/a" for none)
#   ratio A B      A / B to two places ("n/a" when B is not positive)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${B:-build}
CAPSULE=${CAPSULE:-$ROOT/$B/capsule}
export CAPSULE_ROOT=${CAPSULE_ROOT:-$ROOT}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
p90() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else {i=int(NR*0.9+0.5); if (i<1) i=1; print a[i]}}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

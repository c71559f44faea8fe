#!/usr/bin/env bash
# Download, here (with the package registry), the wheels that the GPU machine lacks, into .whl/
# of the repository root, for its Python 3.12 on x86-64 Linux: Keras and the packages Keras
# needs that are not already there. TensorFlow and JAX are not among them: the GPU machine
# runs the JAX backend with its own JAX, and fwlib imports no TensorFlow under JAX.
#
#     bash benchmarks/gpu/prepare.sh          # then carry .whl/ to the machine, run run.sh there
#
# Fails when the wheels add up to more than WHEEL_LIMIT_MIB (default 40), or, where the copy to
# the GPU machine has a size cap, when what would be copied (the files git tracks or does not
# ignore, and .whl/) adds up to more than TRAVEL_LIMIT_MIB (unset: not checked). The GPU
# machine needs the code alone: the committed results/ may stay behind.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
LIMIT_MIB=${WHEEL_LIMIT_MIB:-40}
TRAVEL_LIMIT_MIB=${TRAVEL_LIMIT_MIB:-}
# The versions of the project's environment; optree is the only one with compiled code.
PURE=(keras==3.15.1 namex==0.1.0 absl-py==2.5.1 typing_extensions==4.16.0)
BINARY=(optree==0.20.0)

rm -rf .whl
mkdir -p .whl
target=(--no-deps --only-binary=:all: --python-version 3.12 -d .whl)
"$PYTHON" -m pip download -q "${target[@]}" "${PURE[@]}"
"$PYTHON" -m pip download -q "${target[@]}" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 "${BINARY[@]}"

# The code version here, for the record: the GPU machine's copy of the tree has no git history.
git describe --always --dirty --abbrev=12 > .whl/code_version.txt 2> /dev/null || true

ls -l .whl/*.whl | awk '{printf "%9d  %s\n", $5, $NF}'
bytes=$(cat .whl/*.whl | wc -c)
mib=$(( (bytes + 1048575) / 1048576 ))
echo "$(ls .whl/*.whl | wc -l) wheels, ${bytes} bytes (${mib} MiB) in .whl/"
if (( bytes > LIMIT_MIB * 1048576 )); then
    echo "error: the wheels in .whl/ add up to ${mib} MiB, over the limit of ${LIMIT_MIB} MiB" \
         "(WHEEL_LIMIT_MIB): drop a package that the GPU machine already has" >&2
    exit 1
fi

[[ -z "$TRAVEL_LIMIT_MIB" ]] && exit 0
tree=$( (git ls-files -z --cached --others --exclude-standard \
         | xargs -0 -r stat -c %s 2> /dev/null || true) | awk '{s += $1} END {print s + 0}')
travel=$((tree + bytes))
echo "what travels: $((travel / 1048576)) MiB (the tree $((tree / 1048576)) MiB, the wheels" \
     "${mib} MiB), limit ${TRAVEL_LIMIT_MIB} MiB"
if (( travel > TRAVEL_LIMIT_MIB * 1048576 )); then
    echo "error: the tree and .whl/ add up to more than ${TRAVEL_LIMIT_MIB} MiB" \
         "(TRAVEL_LIMIT_MIB), which the GPU machine refuses; the largest parts:" >&2
    git ls-files -z | xargs -0 -r du -b 2> /dev/null \
        | awk '{n = split($2, p, "/"); d = (n > 2 ? p[1] "/" p[2] : p[1]); s[d] += $1}
               END {for (d in s) printf "%8.1f MiB  %s\n", s[d] / 1048576, d}' \
        | sort -rn | head -5 >&2
    exit 1
fi

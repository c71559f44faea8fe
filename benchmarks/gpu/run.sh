#!/usr/bin/env bash
# The GPU measurement, on the machine with the GPU, from the repository root, after
# benchmarks/gpu/prepare.sh has filled .whl/ here:
#
#     bash benchmarks/gpu/run.sh [OUT]        # OUT defaults to $OUT
#
# Installs the wheels of .whl/ into /tmp/site (no registry needed), then, under the JAX backend
# with deterministic GPU operations and without preallocation (so that several processes share
# the GPU), writes under OUT: environment.json (device, memory, versions), train_speed.{csv,md,
# json} (fast weights at R = 50 and 100 and the LSTM), table1_cell.json (a short Table 1 run of
# fast weights at R = 100), parallel.json (4 runs side by side against one alone, after one run
# that fills the compilation cache), compile_check.csv (fast weights' first window with XLA's
# GPU autotuning off) and run.log: 8 files.
# Then, here: python benchmarks/gpu/collect.py FILES_AT.
#
# GPU_QUICK=1 shrinks every budget to a check that ends in a few minutes on a CPU.
# GPU_STEPS chooses the steps (default all: "environment speed cell parallel compile"), so that
# a later machine can measure what an earlier one had no time for. GPU_PROCESSES sets how many
# runs go side by side (default 4). GPU_MPS=1 runs them under NVIDIA's Multi-Process Service,
# which lets the kernels of several processes run at once instead of in turns (said in the log
# when the service cannot start, and then measured without it).
set -uo pipefail
cd "$(dirname "$0")/../.."

steps="environment speed cell parallel compile"
chosen=" ${GPU_STEPS:-$steps} "
for key in $chosen; do
    if [[ " $steps " != *" $key "* ]]; then
        echo "error: GPU_STEPS: unknown step '$key' (allowed: $steps)" >&2
        exit 2
    fi
done

out=${1:-${OUT:?give the output folder as the argument or in OUT}}
site=${GPU_SITE:-/tmp/site}
wheels=${GPU_WHEELS:-.whl}  # another folder of wheels: for a check on another Python
mkdir -p "$out"
log="$out/run.log"
: > "$log"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }

if ! ls "$wheels"/*.whl > /dev/null 2>&1; then
    echo "error: no wheels in $wheels/: run benchmarks/gpu/prepare.sh where the registry is" >&2
    exit 1
fi
say "installing $(ls "$wheels"/*.whl | wc -l) wheels into $site"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" "$wheels"/*.whl >> "$log" 2>&1 || { say "error: pip install failed"; exit 1; }
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=2
# Compiled programs kept on disk and shared by the processes: compiling the fast-weights step
# took 113 s on an H200 (R = 100), against about 2 s for 2,000 updates, so a program that the
# Table 1 cell compiled is loaded, not compiled again, by the runs side by side.
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-/tmp/jax_cache}

# Deterministic GPU operations where XLA offers them; dropped (and said) if this XLA refuses
# the flag, which it reads when JAX starts.
deterministic="--xla_gpu_deterministic_ops=true"
if XLA_FLAGS="${XLA_FLAGS:-} $deterministic" python3 -c "import jax; jax.devices()" \
        >> "$log" 2>&1; then
    export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }$deterministic"
else
    say "warning: this XLA refuses $deterministic: measuring without it"
fi

if [[ "${GPU_QUICK:-0}" == 1 ]]; then
    speed=(--units 20 --windows 2 --warmup 1 --window-steps 50)
    cell=(--steps 200)
    parallel=(--steps 1000 --processes 2)
    check=(--units 20 --windows 1 --warmup 1 --window-steps 50)
    limit=300
else
    speed=(--units 50 100 --windows 5 --warmup 1 --window-steps 200)
    cell=(--steps 3000)
    parallel=(--steps 5000 --processes "${GPU_PROCESSES:-4}")
    check=(--units 100 --windows 1 --warmup 1 --window-steps 200)
    limit=420
fi

# Every step has a time limit, and all of them together GPU_TOTAL_S (default 540 s), so that
# whatever was measured comes back from a command limited to 10 minutes.
deadline=$((SECONDS + ${GPU_TOTAL_S:-540}))
if [[ "${GPU_MPS:-0}" == 1 ]]; then
    export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps_pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps_log
    mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
    if nvidia-cuda-mps-control -d >> "$log" 2>&1 \
            && timeout 120 python3 -c "import jax; print(jax.devices())" >> "$log" 2>&1; then
        say "Multi-Process Service on"
        trap 'echo quit | nvidia-cuda-mps-control > /dev/null 2>&1' EXIT
    else
        say "warning: the Multi-Process Service could not start: measuring without it"
        echo quit | nvidia-cuda-mps-control > /dev/null 2>&1
        unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
    fi
fi
status=0
step() {  # step KEY NAME COMMAND...: run it with a time limit, its output to the log
    [[ "$chosen" == *" $1 "* ]] || return 0
    shift
    local start=$SECONDS left=$((deadline - SECONDS))
    if (( left < 30 )); then
        say "error: $1 not run: out of time (GPU_TOTAL_S)"
        status=1
        return
    fi
    say "$1 ..."
    if timeout "$(( left < limit ? left : limit ))" "${@:2}" >> "$log" 2>&1; then
        say "$1 done in $((SECONDS - start)) s"
    else
        say "error: $1 failed or ran out of time (exit status $?): see run.log"
        status=1
    fi
}
step environment environment python3 benchmarks/gpu/measure.py environment --out "$out"
step speed "training speed" python3 benchmarks/train_speed.py --backends jax \
    --models fast_weights lstm "${speed[@]}" --no-time-to-accuracy --out "$out"
step cell "Table 1 cell" python3 benchmarks/gpu/measure.py cell --out "$out" "${cell[@]}"
step parallel "processes side by side" python3 benchmarks/gpu/measure.py parallel --out "$out" \
    "${parallel[@]}"
# Compiling the fast-weights step took 113 s at R = 100 on an H200 (3 s for the LSTM): the
# same first window with XLA's GPU autotuning off, and no cache, says how much of that is
# autotuning. Last, so that it can only shorten itself. Its table alone is kept.
step compile "compile check" env XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_autotune_level=0" \
    JAX_COMPILATION_CACHE_DIR= python3 benchmarks/train_speed.py --backends jax \
    --models fast_weights "${check[@]}" --no-time-to-accuracy --out "$out/compile_check"
[[ -f "$out/compile_check/train_speed.csv" ]] \
    && mv "$out/compile_check/train_speed.csv" "$out/compile_check.csv"
rm -rf "$out/compile_check"
say "finished with exit status $status; files: $(cd "$out" && ls | tr '\n' ' ')"
exit $status

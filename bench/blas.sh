#!/usr/bin/env bash
# blas.sh [BENCHTIME]: m4sc's training engine with gonum's pure-Go BLAS (the default
# build) against OpenBLAS (build tag openblas), in one run on this machine, at
# GOMAXPROCS 1, 2 and, where the machine has more cores, all of them:
#   - Gemm at the model's shapes (nn BenchmarkGemm), GFLOP/s;
#   - one training step of a 4-layer, width-256 transformer on 32 x 64 tokens
#     (nn BenchmarkTransformerStep), ms per step;
#   - one training step of each stage of the real model, lm, align and instruct
#     (llm BenchmarkTrainStep; needs the data sets of `m4sc data fetch`), ms per step;
#   - inference: one 20-word sentence through the model (llm BenchmarkTransmitSentence)
#     and one sentence through the whole chain, model, codec, PHY, loopback air and
#     receiver (semantic BenchmarkSentenceChain), ms per sentence.
# Each line gives both sides and the ratio (how many times faster OpenBLAS is).
# With BASE=REV in the environment it also times the pure-Go build of REV (a git
# revision of this repository, such as the one before the OpenBLAS work) against this
# one on the transformer step and the model's steps, in the same run: the default build
# must not have become slower.
# Installs libopenblas-dev when missing. BENCHTIME is go test's -benchtime for
# the step benchmarks (default 5x); Gemm runs for 1s a shape.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
openblas_own_choice
steps=${1:-5x}
if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
	echo "installing libopenblas-dev" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null
fi
make_tmp
cd "$here"
for tag in gonum openblas; do
	flags=()
	[ "$tag" = openblas ] && flags=(-tags openblas)
	go test "${flags[@]}" -c -o "$tmp/nn.$tag" ./nn
	go test "${flags[@]}" -c -o "$tmp/llm.$tag" ./llm
	go test "${flags[@]}" -c -o "$tmp/semantic.$tag" ./semantic
done
if [ -n "${BASE:-}" ]; then
	git worktree add -q --detach "$tmp/base" "$BASE"
	trap 'git -C "$here" worktree remove --force "$tmp/base" >/dev/null 2>&1; rm -rf "${lib_cleanup[@]}"' EXIT # and make_tmp's directories
	(cd "$tmp/base" && go test -c -o "$tmp/nn.base" ./nn && go test -c -o "$tmp/llm.base" ./llm)
fi
echo "$(machine libopenblas-dev); $(nproc) cores"
cpus="1 2"
if [ "$(nproc)" -gt 2 ]; then cpus="1 2 $(nproc)"; fi

# run BIN DIR ARGS...: run a test binary in DIR (the package's directory, for its
# testdata and the shipped tokenizer) and print its benchmark lines.
run() {
	local bin=$1 dir=$2
	shift 2
	(cd "$dir" && "$bin" -test.run '^$' "$@" 2>&1 | grep '^Benchmark' || true)
}

# metric LINES NAME UNIT: the value before UNIT on the line of benchmark NAME.
metric() {
	awk -v name="$2" -v unit="$3" '$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' <<<"$1" | head -1
}

for cpu in $cpus; do
	echo
	echo "== GOMAXPROCS $cpu"
	g=$(run "$tmp/nn.gonum" nn -test.bench '^BenchmarkGemm$' -test.benchtime 1s -test.cpu "$cpu")
	o=$(run "$tmp/nn.openblas" nn -test.bench '^BenchmarkGemm$' -test.benchtime 1s -test.cpu "$cpu")
	printf '%-44s %10s %10s %7s\n' "Gemm M x N x K (GFLOP/s)" gonum openblas ratio
	for shape in $(awk '{print $1}' <<<"$g" | sed 's|BenchmarkGemm/||; s|-[0-9]*$||'); do
		name="BenchmarkGemm/$shape"
		a=$(metric "$g" "$name" GFLOP/s)
		b=$(metric "$o" "$name" GFLOP/s)
		printf '%-44s %10.1f %10.1f %7.2f\n' "  $shape" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
	done
	printf '%-44s %10s %10s %7s\n' "training step (ms)" gonum openblas ratio
	g=$(run "$tmp/nn.gonum" nn -test.bench '^BenchmarkTransformerStep$' -test.benchtime "$steps" -test.cpu "$cpu")
	o=$(run "$tmp/nn.openblas" nn -test.bench '^BenchmarkTransformerStep$' -test.benchtime "$steps" -test.cpu "$cpu")
	a=$(metric "$g" BenchmarkTransformerStep ms/step)
	b=$(metric "$o" BenchmarkTransformerStep ms/step)
	printf '%-44s %10.0f %10.0f %7.2f\n' "  transformer 4 x 256, 32 x 64 tokens" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
	g=$(run "$tmp/llm.gonum" llm -test.bench '^BenchmarkTrainStep$' -test.benchtime "$steps" -test.cpu "$cpu")
	o=$(run "$tmp/llm.openblas" llm -test.bench '^BenchmarkTrainStep$' -test.benchtime "$steps" -test.cpu "$cpu")
	if [ -z "$g" ]; then
		echo "  (no data sets: run m4sc data fetch for the model's stages)"
		continue
	fi
	for st in lm align instruct; do
		a=$(metric "$g" "BenchmarkTrainStep/$st" ms/step)
		b=$(metric "$o" "BenchmarkTrainStep/$st" ms/step)
		printf '%-44s %10.0f %10.0f %7.2f\n' "  m4sc model, $st stage, 32 examples" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
	done
	printf '%-44s %10s %10s %7s\n' "inference (ms a sentence)" gonum openblas ratio
	g=$(run "$tmp/llm.gonum" llm -test.bench '^BenchmarkTransmitSentence$' -test.benchtime 20x -test.cpu "$cpu")
	o=$(run "$tmp/llm.openblas" llm -test.bench '^BenchmarkTransmitSentence$' -test.benchtime 20x -test.cpu "$cpu")
	a=$(metric "$g" BenchmarkTransmitSentence ms/sentence)
	b=$(metric "$o" BenchmarkTransmitSentence ms/sentence)
	printf '%-44s %10.1f %10.1f %7.2f\n' "  model: encode + greedy decode, 20 words" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
	g=$(run "$tmp/semantic.gonum" semantic -test.bench '^BenchmarkSentenceChain$' -test.benchtime 20x -test.cpu "$cpu")
	o=$(run "$tmp/semantic.openblas" semantic -test.bench '^BenchmarkSentenceChain$' -test.benchtime 20x -test.cpu "$cpu")
	a=$(metric "$g" BenchmarkSentenceChain ms/sentence)
	b=$(metric "$o" BenchmarkSentenceChain ms/sentence)
	printf '%-44s %10.1f %10.1f %7.2f\n' "  chain: send, loopback air, receive" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
done

if [ -n "${BASE:-}" ]; then
	echo
	echo "== pure Go: $BASE against this tree, GOMAXPROCS 2"
	printf '%-44s %10s %10s %7s\n' "step (ms)" base this ratio
	g=$(run "$tmp/nn.base" nn -test.bench '^BenchmarkTransformerStep$' -test.benchtime "$steps" -test.cpu 2)
	o=$(run "$tmp/nn.gonum" nn -test.bench '^BenchmarkTransformerStep$' -test.benchtime "$steps" -test.cpu 2)
	a=$(metric "$g" BenchmarkTransformerStep ms/step)
	b=$(metric "$o" BenchmarkTransformerStep ms/step)
	printf '%-44s %10.0f %10.0f %7.2f\n' "  transformer 4 x 256, 32 x 64 tokens" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
	g=$(run "$tmp/llm.base" llm -test.bench '^BenchmarkTrainStep$' -test.benchtime "$steps" -test.cpu 2)
	o=$(run "$tmp/llm.gonum" llm -test.bench '^BenchmarkTrainStep$' -test.benchtime "$steps" -test.cpu 2)
	for st in lm align instruct; do
		a=$(metric "$g" "BenchmarkTrainStep/$st" ms/step)
		b=$(metric "$o" "BenchmarkTrainStep/$st" ms/step)
		printf '%-44s %10.0f %10.0f %7.2f\n' "  m4sc model, $st stage, 32 examples" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
	done
fi

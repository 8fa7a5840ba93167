#!/usr/bin/env bash
# pipeline.sh [RUN_DIR]: the whole model pipeline, timed, from a fresh clone of this
# repository built with the openblas tag: m4sc data fetch, then m4sc train --stage
# instruct (lm, align, instruct), the three continuations of the instruct stage that
# made the shipped model (llm/weights/MODEL.md, Reproduce), m4sc eval --clean on the
# result, then m4sc train --stage channel (the channel codec, joint with the model).
# Prints the wall time of each stage and writes the run directory (default:
# runs/pipeline in the clone, which is kept and named at the end; the continuations
# in RUN_DIR/b, c and d). PIPELINE_CONTINUE=0 stops after the first 6,000 instruct
# steps; PIPELINE_CHANNEL=0 leaves the channel stage out. Installs libopenblas-dev if
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
openblas_own_choice
if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
	echo "installing libopenblas-dev" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null
fi
clone=${PIPELINE_CLONE:-$(mktemp -d)/m4sc}
git clone -q "$here" "$clone"
cd "$clone"
echo "clone of $(git rev-parse --short HEAD) in $clone"
echo "$(go version); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(nproc) cores"
go build -tags openblas -o m4sc ./cmd/m4sc
./m4sc version
run=${1:-runs/pipeline}
t0=$(date +%s)
./m4sc data fetch
t1=$(date +%s)
# The model keeps text's case (m4sc train --cased, the default): its tokenizer is
# trained on cased text first (2 s), which costs 2.8% more tokens a sentence than
# lower-cased text (25.6 against 24.9 on the training split), where the lower-cased
# tokenizer would cost 15.7% more on the text as written (28.8).
mkdir -p "$run"
[ -f "$run/tokenizer.json" ] || ./m4sc train --stage tokenizer --out "$run/tokenizer.json"
OPENBLAS_NUM_THREADS=1 ./m4sc train --stage instruct --resume --run-dir "$run" --tokenizer "$run/tokenizer.json" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | awk 'NR % 50 == 1 || /stage|done|written|error|Error/'
t2=$(date +%s)
last="$run"
if [ "${PIPELINE_CONTINUE:-1}" != 0 ]; then
	# The shipped recipe: three continuations from the previous weights, fresh
	# batches (another seed) at falling learning rates, the last weighted to text.
	prev="$run"
	for spec in "b 3e-4 2" "c 2e-4 3" "d 1.5e-4 4 --mix text.transmit=0.35"; do
		set -- $spec
		dir="$run/$1" lr=$2 seed=$3
		shift 3
		OPENBLAS_NUM_THREADS=1 ./m4sc train --stage instruct --resume --from "$prev/instruct.safetensors" --run-dir "$dir" --tokenizer "$run/tokenizer.json" \
			--steps 2000 --lr "$lr" --seed "$seed" "$@" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | awk 'NR % 50 == 1 || /stage|done|written|error|Error/'
		prev="$dir"
	done
	last="$prev"
fi
t3=$(date +%s)
OPENBLAS_NUM_THREADS=1 ./m4sc eval --clean --fresh --weights "$last/instruct.safetensors"
t4=$(date +%s)
if [ "${PIPELINE_CHANNEL:-1}" != 0 ]; then
	OPENBLAS_NUM_THREADS=1 ./m4sc train --stage channel --resume --run-dir "$last" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | awk 'NR % 50 == 1 || /stage|done|written|error|Error/'
fi
t5=$(date +%s)
echo "data fetch: $((t1 - t0)) s"
echo "train (lm + align + instruct): $((t2 - t1)) s"
for st in lm align instruct; do
	if [ -f "$run/$st.csv" ]; then
		echo "  $st: $(tail -1 "$run/$st.csv" | cut -d, -f6) (last curve row; see the csv header)"
	fi
done
echo "instruct continuations: $((t3 - t2)) s"
for d in b c d; do
	if [ -f "$run/$d/instruct.csv" ]; then
		echo "  $d: $(tail -1 "$run/$d/instruct.csv" | cut -d, -f6)"
	fi
done
echo "model pipeline in all: $((t3 - t1)) s"
echo "eval: $((t4 - t3)) s"
echo "train channel (codec alone, then joint): $((t5 - t4)) s"
echo "run directory: $clone/$run"

#!/usr/bin/env bash
# Peer benchmark: EleutherAI's lm-evaluation-harness asking the same items of the same
# OpenAI-compatible server, as chat completions with 32 requests in flight.
#   bash bench/lm_eval_peer.sh BASE_URL ITEMS_JSONL N
#     BASE_URL     e.g. http://127.0.0.1:PORT/v1 (".../chat/completions" is appended)
#     ITEMS_JSONL  medaudit items, one a line (id, zh.stem, zh.options, answer)
#     N            how many items (the first N lines) to ask
# Prints one final line: lm-eval items=N wall_s=X items_per_s=Y version=V
# wall_s is the whole `lm-eval run` process: start-up, task and dataset loading, the
# requests, scoring and writing results. The request phase alone goes to stderr.
#
# lm-eval is never a project dependency: it lives in a throwaway virtualenv, by default
# ~/.cache/medaudit-bench/lm-eval-venv (LM_EVAL_VENV to move it), made and filled on first
# use and reused after. Its API models need no torch: `lm-eval[api]` is enough.
# LM_EVAL_VERSION picks the version (default pinned below); PYTHON the interpreter for the venv.
set -euo pipefail

die() { echo "lm_eval_peer: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: lm_eval_peer.sh BASE_URL ITEMS_JSONL N"
base_url="${1%/}" items="$2" n="$3"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$n'"
[ -r "$items" ] || die "cannot read items file $items"
case "$base_url" in
  */chat/completions) endpoint="$base_url" ;;
  *) endpoint="$base_url/chat/completions" ;;
esac

version_wanted="${LM_EVAL_VERSION:-0.4.13}"
venv="${LM_EVAL_VENV:-$HOME/.cache/medaudit-bench/lm-eval-venv}"
python="${PYTHON:-python3}"

work="$(mktemp -d)"
# LM_EVAL_PEER_LOG=FILE keeps lm-eval's own log.
trap '[ -z "${LM_EVAL_PEER_LOG:-}" ] || cp "$work/lm_eval.log" "$LM_EVAL_PEER_LOG" 2>/dev/null || true; rm -rf "$work"' EXIT

# 1. The virtualenv, installed once (time-boxed) and reused.
venv_ok() {
  [ -x "$venv/bin/lm-eval" ] && "$venv/bin/python" - "$version_wanted" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
import lm_eval, aiohttp, tenacity, tiktoken, requests, tqdm  # the [api] extra
sys.exit(0 if m.version("lm_eval") == sys.argv[1] else 1)
PY
}
if ! venv_ok; then
  echo "lm_eval_peer: installing lm-eval[api]==$version_wanted into $venv" >&2
  command -v "$python" >/dev/null || die "no $python to make the virtualenv with"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" >"$work/venv.log" 2>&1 \
    || die "could not create virtualenv $venv: $(tail -1 "$work/venv.log")"
  timeout 1800 "$venv/bin/python" -m pip install -q --disable-pip-version-check \
      "lm-eval[api]==$version_wanted" >"$work/pip.log" 2>&1 \
    || die "pip install lm-eval[api]==$version_wanted failed: $(grep -v '^\s*$' "$work/pip.log" | tail -1)"
  venv_ok || die "lm-eval installed but lm_eval or its [api] packages do not import"
fi
version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("lm_eval"))')"

# 2. The items as a local JSONL dataset: prompt = stem, lettered options, "答案：".
mkdir -p "$work/data" "$work/tasks"
"$venv/bin/python" - "$items" "$n" "$work/data/test.jsonl" 2>"$work/convert.err" <<'PY' \
  || die "could not convert $items: $(grep -v '^\s*$' "$work/convert.err" | tail -1)"
import json, sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
letters = "ABCDEFGH"
count = 0
with open(src, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
    for line in f:
        if count == n:
            break
        if not line.strip():
            continue
        item = json.loads(line)
        zh = item["zh"]
        opts = "\n".join(f"{letters[i]}. {text}" for i, text in enumerate(zh["options"]))
        prompt = f"{zh['stem']}\n{opts}\n答案："
        target = "".join(letters[i] for i in sorted(item["answer"]))
        o.write(json.dumps({"id": item["id"], "prompt": prompt, "target": target}, ensure_ascii=False) + "\n")
        count += 1
if count < n:
    sys.exit(f"it has only {count} items, {n} asked for")
PY

# 3. The task: generate_until, a regex on the letter(s), exact match.
cat > "$work/tasks/medaudit_peer.yaml" <<YAML
task: medaudit_peer
dataset_path: json
dataset_kwargs:
  data_files:
    test: $work/data/test.jsonl
test_split: test
output_type: generate_until
doc_to_text: "{{prompt}}"
doc_to_target: "{{target}}"
generation_kwargs:
  until: ["\n\n"]
  max_gen_toks: 16
  do_sample: false
  temperature: 0
filter_list:
  - name: letter
    filter:
      - function: regex
        regex_pattern: "答案[：:]\\\\s*([A-H]+)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
YAML

# 4. The run: no response cache, datasets cached only in the temp dir, nothing from a hub.
export HF_HOME="$work/hf" HF_DATASETS_CACHE="$work/hf/datasets" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false OPENAI_API_KEY="${OPENAI_API_KEY:-bench}"
start=$(date +%s.%N)
if ! "$venv/bin/lm-eval" run \
    --model local-chat-completions \
    --model_args "model=bench,base_url=$endpoint,num_concurrent=32,max_retries=1,timeout=60,tokenized_requests=False" \
    --tasks medaudit_peer --include_path "$work/tasks" \
    --apply_chat_template --batch_size 1 \
    --output_path "$work/out" >"$work/lm_eval.log" 2>&1; then
  die "lm-eval run failed (LM_EVAL_PEER_LOG=FILE keeps its log): $(grep -v '^\s*$' "$work/lm_eval.log" | tail -1)"
fi
end=$(date +%s.%N)

# 5. Check every item was asked and scored, then report.
result="$(find "$work/out" -name 'results_*.json' | head -1)"
[ -n "$result" ] || die "lm-eval wrote no results file: $(grep -v '^\s*$' "$work/lm_eval.log" | tail -1)"
"$venv/bin/python" - "$result" "$n" "$start" "$end" "$version" "$work/lm_eval.log" <<'PY'
import json, re, sys
path, n, start, end, version, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
res = json.load(open(path))
done = res.get("n-samples", {}).get("medaudit_peer", {}).get("effective")
if done != n:
    sys.exit(f"lm_eval_peer: lm-eval scored {done} items, expected {n}")
em = res["results"]["medaudit_peer"].get("exact_match,letter")
# tqdm's last "Requesting API" line: the request phase alone.
text = open(log, encoding="utf-8", errors="replace").read().replace("\r", "\n")
bars = [l for l in text.split("\n") if l.startswith("Requesting API") and f"{n}/{n}" in l]
phase = bars[-1].strip() if bars else "(no progress line)"
print(f"lm_eval_peer: exact_match={em} request phase: {phase}", file=sys.stderr)
wall = end - start
print(f"lm-eval items={n} wall_s={wall:.2f} items_per_s={n / wall:.1f} version={version}")
PY

#!/usr/bin/env bash
# Engine benchmark: throughput against a zero-latency fake server, wall time when latency-bound,
# and peak memory, written with machine and date to bench/results/engine.md.
#   bash bench/engine.sh            # 12,000 and 120,000 items
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -q -p medaudit -p medaudit-fakeserver
bin="$CARGO_TARGET_DIR/release"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export MEDAUDIT_CACHE_DIR="$work/cache"

# A bank of N items: the shipped bank replicated with fresh ids and a salted stem, so every
# copy is a distinct item with its own content hash.
make_bank() {
  python3 - "$1" "$2" <<'PY'
import json, glob, sys, os
n, out = int(sys.argv[1]), sys.argv[2]
source = [json.loads(l) for f in sorted(glob.glob("bank/items/*.jsonl")) for l in open(f, encoding="utf-8") if l.strip()]
os.makedirs(out + "/items", exist_ok=True)
with open(out + "/items/all.jsonl", "w", encoding="utf-8") as f:
    for i in range(n):
        item = dict(source[i % len(source)])
        item["id"] = f"BENCH-{i:06d}"
        item["zh"] = dict(item["zh"]); item["en"] = dict(item["en"])
        item["zh"]["stem"] = item["zh"]["stem"] + f"（编号{i}）"
        item["en"]["stem"] = item["en"]["stem"] + f" (case {i})"
        item["split"] = "test"
        f.write(json.dumps(item, ensure_ascii=False) + "\n")
PY
}

start_server() { # latency_ms -> sets base_url
  local log="$work/server-$1.log"
  "$bin/medaudit-fake-server" --port 0 --latency-ms "$1" --threads 1 > "$log" &
  for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.05; done
  base_url="$(sed -n 's/listening on //p' "$log")"
}

# run N CONCURRENCY LATENCY -> "wall_s peak_rss_mb"
run_eval() {
  local n=$1 concurrency=$2 latency=$3 bank="$work/bank-$1" out="$work/run-$1-$2-$3"
  [ -d "$bank" ] || make_bank "$n" "$bank"
  start_server "$latency"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$bin/medaudit" eval --bank "$bank" --model openai:bench --base-url "$base_url" \
     --no-cache --quiet --concurrency "$concurrency" --out "$out" --max-retries 0 >/dev/null
  end=$(date +%s.%N)
  kill %% 2>/dev/null || true
  local lines; lines=$(wc -l < "$out/journal.jsonl")
  [ "$lines" -eq "$n" ] || { echo "expected $n journal lines, got $lines" >&2; exit 1; }
  # The engine's own run phase: from the first request sent to the last record journaled.
  local phase; phase=$(python3 -c "
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
print((max(x['finished_at_ms'] for x in r)-min(x['finished_at_ms']-x['latency_ms'] for x in r))/1000)" "$out/journal.jsonl")
  echo "$(echo "$end - $start" | bc -l) $(( $(cat "$work/rss") / 1024 )) $phase"
}

read -r w12 m12 p12 < <(run_eval 12000 32 0)
read -r wlat mlat plat < <(run_eval 12000 64 50)
read -r w120 m120 p120 < <(run_eval 120000 32 0)

# The peer, on the same fake server and the same items (optional: it needs a Python venv).
peer="not measured (bench/lm_eval_peer.sh missing)"
if [ -x bench/lm_eval_peer.sh ] && [ "${SKIP_PEER:-0}" != 1 ]; then
  start_server 0
  if line=$(bash bench/lm_eval_peer.sh "$base_url" "$work/bank-12000/items/all.jsonl" 12000 2>"$work/peer.err" | tail -1) && [[ "$line" == lm-eval* ]]; then
    peer="$line"
  else
    peer="failed: $(tail -1 "$work/peer.err")"
  fi
  kill %% 2>/dev/null || true
fi
ideal=$(echo "12000 * 0.05 / 64" | bc -l)

{
  echo "# Engine benchmark"
  echo
  echo "Written by \`bench/engine.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sm), medaudit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo "Fake OpenAI-compatible server (\`medaudit-fake-server\`, 1 worker thread) on loopback, journaling on, cache off, release build. Wall time includes process start, bank load and writing results and reports."
  echo
  echo "| scenario | items | concurrency | server latency | process wall s | run phase s | items/s (process) | peak RSS MB | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf "| overhead | 12,000 | 32 | 0 ms | %.2f | %.2f | %.0f | %s | ≥ 2,000 items/s, ≤ 150 MB |\n" "$w12" "$p12" "$(echo "12000 / $w12" | bc -l)" "$m12"
  printf "| latency-bound | 12,000 | 64 | 50 ms | %.2f | %.2f | %.0f | %s | within 10%% of %.2f s: process %.1f%% over, run phase %.1f%% over |\n" "$wlat" "$plat" "$(echo "12000 / $wlat" | bc -l)" "$mlat" "$ideal" "$(echo "($wlat / $ideal - 1) * 100" | bc -l)" "$(echo "($plat / $ideal - 1) * 100" | bc -l)"
  printf "| memory | 120,000 | 32 | 0 ms | %.2f | %.2f | %.0f | %s | ≤ 1,024 MB |\n" "$w120" "$p120" "$(echo "120000 / $w120" | bc -l)" "$m120"
  echo
  echo "Process wall time counts start-up (reading, validating and hashing the bank, writing the item snapshot) and the end (results and reports); the run phase is from the first request to the last journaled record. Both processes share the machine's two cores, so the figures are lower bounds on what the engine does alone."
  echo
  echo "Peer on the same server and items, same run: \`$peer\`; medaudit at concurrency 32 did $(printf "%.0f" "$(echo "12000 / $w12" | bc -l)") items/s (process wall)."
} > bench/results/engine.md
cat bench/results/engine.md

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
  echo "$(echo "$end - $start" | bc -l) $(( $(cat "$work/rss") / 1024 ))"
}

read -r w12 m12 < <(run_eval 12000 32 0)
read -r wlat mlat < <(run_eval 12000 64 50)
read -r w120 m120 < <(run_eval 120000 32 0)
ideal=$(echo "12000 * 0.05 / 64" | bc -l)

{
  echo "# Engine benchmark"
  echo
  echo "Written by \`bench/engine.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sm), medaudit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo "Fake OpenAI-compatible server (\`medaudit-fake-server\`, 1 worker thread) on loopback, journaling on, cache off, release build. Wall time includes process start, bank load and writing results and reports."
  echo
  echo "| scenario | items | concurrency | server latency | wall s | items/s | peak RSS MB | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  printf "| overhead | 12,000 | 32 | 0 ms | %.2f | %.0f | %s | ≥ 2,000 items/s, ≤ 150 MB |\n" "$w12" "$(echo "12000 / $w12" | bc -l)" "$m12"
  printf "| latency-bound | 12,000 | 64 | 50 ms | %.2f | %.0f | %s | wall within 10%% of %.2f s (%.1f%% over) |\n" "$wlat" "$(echo "12000 / $wlat" | bc -l)" "$mlat" "$ideal" "$(echo "($wlat / $ideal - 1) * 100" | bc -l)"
  printf "| memory | 120,000 | 32 | 0 ms | %.2f | %.0f | %s | ≤ 1,024 MB |\n" "$w120" "$(echo "120000 / $w120" | bc -l)" "$m120"
  echo
  echo "Both processes share the machine's cores, so the overhead figure is a lower bound on what the engine does alone."
  echo
  echo "lm-evaluation-harness side by side: not measured yet (see the note in the engine issue): installing it pulls PyTorch, which this run did not do."
} > bench/results/engine.md
cat bench/results/engine.md

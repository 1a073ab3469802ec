#!/usr/bin/env bash
# Writes the seed inputs under fuzz/seeds/ (committed; rerun after a format change).
# Needs the CLI built: `cargo build` at the repository root.
set -euo pipefail
cd "$(dirname "$0")"
cli=../target/debug/lsstseries
seeds=seeds/parquet_open
rm -rf "$seeds" && mkdir -p "$seeds"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A parquet_open input: one selector byte (see fuzz_targets/parquet_open.rs), then the file.
seed() { # name selector-hex file
    { printf "\\x$2"; cat "$3"; } > "$seeds/$1"
}
"$cli" generate "$tmp/plain" --objects 4 --observations 6 --files 1 --row-groups 2 2>/dev/null
"$cli" generate "$tmp/shuffled" --objects 5 --observations 4 --files 1 --row-groups 3 --shuffle \
    --bands g,r 2>/dev/null
plain=$tmp/plain/part-00000.parquet
shuffled=$tmp/shuffled/part-00000.parquet
tape=../data/tape/test_source.parquet
seed generated-rowgroups 00 "$plain"
seed generated-bytes-sf2 44 "$plain"
seed generated-rows-features-grouped e8 "$plain"
seed shuffled-count-nobs 26 "$shuffled"
seed shuffled-bands-stetson 10 "$shuffled"
seed tape-rowgroups 01 "$tape"
seed tape-bytes-grouped 85 "$tape"
seed tape-object-table 01 ../data/tape/test_object.parquet
# Damaged files: truncated, footer length wrong, one bit flipped in the data and footer.
head -c 1500 "$plain" > "$tmp/truncated" && seed generated-truncated 00 "$tmp/truncated"
python3 - "$plain" "$tmp" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
n = len(data)
footer = bytearray(data); footer[n - 8] ^= 0x40
open(sys.argv[2] + "/footer-len", "wb").write(footer)
flip = bytearray(data); flip[n // 3] ^= 0x01; flip[n - 40] ^= 0x10
open(sys.argv[2] + "/flipped", "wb").write(flip)
PY
seed generated-footer-length 00 "$tmp/footer-len"
seed generated-bitflips 00 "$tmp/flipped"

mkdir -p seeds/size_string seeds/text_parsers seeds/cli_args
i=0
for s in 5KB 64MiB "2 MiB" 1000 1.5GB 0.4 " 7 k " 1e3 "5 parsecs"; do
    printf '%s' "$s" > "seeds/size_string/$i"; i=$((i + 1))
done
i=0
for s in auto per-partition shuffle macleod_2012 loglength beyond_2_std \
    inter_percentile_range_2p5 stetson_j fuse_maps 'data/tape/*.parquet' 'lc/**/[ab]?.parquet'; do
    printf '%s' "$s" > "seeds/text_parsers/$i"; i=$((i + 1))
done
i=0
while IFS= read -r line; do
    printf '%s' "$line" > "seeds/cli_args/$i"; i=$((i + 1))
done <<'ARGS'
batch stetson_j data/tape/test_source.parquet --columns tape --partition-size 5KB --out sj.csv
explain stetson_j lc --mode grouped --partitions 4 --bands g,r --dot
sf2 x.parquet --method macleod_2012 --bins 0,1,10,100 --bootstrap 100 --seed 3 --out sf.parquet --combine
sf2 x.parquet --bin-method loglength --bin-count-target 0 --out sf.csv --id oid --threads 2
info lc --columns tape --time t --flux f --err e --band b
generate /tmp/lc --objects 10 --observations 5 --bands u,g --files 2 --row-groups 3 --shuffle --scatter
completions bash
functions
bacth
--help
sf2 --help
ARGS

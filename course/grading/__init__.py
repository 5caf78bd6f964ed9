"""The black-box grader: one module per kind of deliverable, behind one check contract.

contract.py  Item, the Check protocol, the registry of checks by name
runner.py    Session: runs the copy's code and the grader's own helpers on one fresh state
helper.py    the grader's own steps as a subprocess (records, read-back, model, poisoned sets)
records.py   fresh keys and hostile records, and the truth only the grader keeps
landing.py   reads a landing back through the SDK and judges every object and record
ingest.py    ingest:aws|azure|gcp, ingest:forged-signature, ingest:reasons, ingest:at-rest
probes.py    probe:exNN, the grader's own tests (probes/) against the copy's modules
rotation.py  cli:rotation
fl.py        fl:model, fl:epsilon (model.py opens the model file)
detect.py    detect:poisoned-sets (poison.py makes the sets)
written.py   written:exNN and the instructor's review sheet
score.py     points per deliverable from its checks (course/exercises.toml says which)
"""

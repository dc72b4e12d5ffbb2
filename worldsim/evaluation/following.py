"""Action following: an inverse-dynamics judge, trained on real play, reads the action
from real pairs and from dream pairs (same starts, same actions)."""
from __future__ import annotations

import numpy as np

from .facts import WorldFacts
from .judge import accuracy, readable


def _components(names, real: dict, dream: dict) -> dict:
    """Per component: the judge's accuracy on real and on dream pairs, whether it reads
    the component at all, and dream over real where it does."""
    out = {}
    for k, name in enumerate(names):
        ok = readable(real[k])
        out[name] = {"real": real[k], "dream": dream[k], "readable": ok,
                     "ratio": dream[k]["balanced"] / real[k]["balanced"] if ok else None}
    return out


def _groups(facts: WorldFacts, comps: dict, real: dict, dream: dict) -> dict:
    """The mean balanced accuracy of each group's readable components."""
    names = list(facts.components)
    out = {}
    for group, members in facts.groups.items():
        ks = [names.index(m) for m in members if comps[m]["readable"]]
        out[group] = {"readable": [names[k] for k in ks]}
        if ks:
            r = float(np.mean([real[k]["balanced"] for k in ks]))
            d = float(np.mean([dream[k]["balanced"] for k in ks]))
            out[group].update(real=r, dream=d, ratio=d / r,
                              chance=float(np.mean([real[k]["chance"] for k in ks])))
    return out


def action_following(idm, judge: dict, facts: WorldFacts, forced_by_policy: dict) -> dict:
    """The judge ``idm`` (with its record ``judge``) on the teacher-forced steps of each
    held-out policy (see ``teacher_forced``): accuracy on real and on dream pairs."""
    result = {"judge": judge, "policies": {}}
    for policy, forced in forced_by_policy.items():
        real = accuracy(idm.predict(forced["before"], forced["real"]), forced["actions"])
        dream = accuracy(idm.predict(forced["before"], forced["dream"]), forced["actions"])
        comps = _components(facts.components, real, dream)
        result["policies"][policy] = {"components": comps,
                                      "groups": _groups(facts, comps, real, dream)}
    return result

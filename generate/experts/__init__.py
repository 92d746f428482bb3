"""Privileged-state experts for pick, place, open and close (one `Policy` per sub-env).

`make_expert(env, seed)` picks the expert from `env.subtask` and `env.articulation`; `seed` is the
sub-env index the eval harness passes, and with each episode's seed it drives the noise.
"""

from hab_aux.policy import Policy


def make_expert(env, seed: int = 0) -> Policy:
    from hab_aux.generate.experts.pick import PickExpert
    from hab_aux.generate.experts.place import PlaceExpert

    experts = {"pick": PickExpert, "place": PlaceExpert}
    if env.subtask not in experts:
        raise NotImplementedError(f"no expert for {env.subtask}")
    return experts[env.subtask](env, seed=seed)

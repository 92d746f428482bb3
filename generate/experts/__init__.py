"""Privileged-state experts for pick, place, open and close (one `Policy` per sub-env).

`make_expert(env, seed)` picks the expert from `env.subtask` and `env.articulation`; `seed` is the
sub-env index the eval harness passes, and with each episode's seed it drives the noise.
"""

from hab_aux.policy import Policy


def make_expert(env, seed: int = 0) -> Policy:
    from hab_aux.generate.experts.drawer import DrawerExpert
    from hab_aux.generate.experts.fridge import FridgeExpert
    from hab_aux.generate.experts.pick import PickExpert
    from hab_aux.generate.experts.place import PlaceExpert

    experts = {"pick": PickExpert, "place": PlaceExpert, "drawer": DrawerExpert, "fridge": FridgeExpert}
    key = env.subtask if env.subtask in ("pick", "place") else env.articulation
    return experts[key](env, seed=seed)

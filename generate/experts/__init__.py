"""Privileged-state experts for pick, place, open and close (one `Policy` per sub-env).

`make_expert(env, seed)` picks the expert of the env's column (`hab_aux.tasks.column_key`); `seed`
is the sub-env index the eval harness passes, and with each episode's seed it drives the noise;
`vary=False` fixes the per-episode choices at the middle of their ranges (`Expert.draw`).
"""

from hab_aux.policy import Policy
from hab_aux.tasks import column_key


def make_expert(env, seed: int = 0, vary: bool = True) -> Policy:
    from hab_aux.generate.experts.drawer import DrawerCloseExpert, DrawerOpenExpert
    from hab_aux.generate.experts.fridge_close import FridgeCloseExpert
    from hab_aux.generate.experts.fridge_open import FridgeOpenExpert
    from hab_aux.generate.experts.pick import PickExpert
    from hab_aux.generate.experts.place import PlaceExpert

    experts = {"pick": PickExpert, "place": PlaceExpert, "open-drawer": DrawerOpenExpert, "close-drawer": DrawerCloseExpert,
               "open-fridge": FridgeOpenExpert, "close-fridge": FridgeCloseExpert}  # fmt: skip
    return experts[column_key(env.subtask, env.articulation)](env, seed=seed, vary=vary)

"""`habaux eval`: closed-loop success rates per subtask column, in the paper's table layout."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hab_aux.errors import UserError, choose, environmental_faults
from hab_aux.eval.config import EvalConfig
from hab_aux.tasks import check_num_envs, get_task, parse_subtasks, select_columns


def command(
    policy: Annotated[str | None, typer.Option(help="Comma-separated policies: random, zero, release (only opens the gripper), expert, expert-mid (the expert with its per-episode choices at the middle of their ranges), mshab-rl (MS-HAB's RL checkpoints; --world mshab), or none (default: random; expert,random beside a --checkpoint).")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="A training run (its latest checkpoint) or a checkpoint folder.")] = None,
    head: Annotated[str, typer.Option(help="Checkpoint head: auto (flow for pick/place, tokens for open/close), tokens or flow.")] = "auto",
    device: Annotated[str, typer.Option(help="Device for the checkpoint: cpu, cuda, cuda:N.")] = "cpu",
    task: Annotated[str, typer.Option(help="SetTable, TidyHouse or PrepareGroceries.")] = "SetTable",
    subtasks: Annotated[str | None, typer.Option(help="Comma-separated subtasks (pick, open, ...) or columns (open-drawer, close-fridge, ...); default: every column.")] = None,
    episodes: Annotated[int, typer.Option(help="Episodes per column.")] = EvalConfig.episodes,
    split: Annotated[str, typer.Option(help="Layout split: val (default) or train.")] = EvalConfig.split,
    seed: Annotated[int, typer.Option(help="Offset into the split's layout seeds.")] = EvalConfig.seed,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write per-column results here.")] = None,
    video: Annotated[Path | None, typer.Option(help="Write head | hand | third-person videos to this folder.")] = None,
    sim_backend: Annotated[str, typer.Option(help="cpu (physx_cpu + sapien_cpu) or gpu (physx_cuda + sapien_cuda).")] = EvalConfig.sim_backend,
    num_envs: Annotated[int, typer.Option(help="Parallel envs per process (more than 1 needs --sim-backend gpu).")] = EvalConfig.num_envs,
    world: Annotated[str, typer.Option(help="procedural (our homes) or mshab (MS-HAB's ReplicaCAD envs: needs its code and assets).")] = EvalConfig.world,
    mshab_checkpoints: Annotated[Path | None, typer.Option(help="Folder of MS-HAB's RL checkpoints (holds rl/<task>/<subtask>/<object>/) for --policy mshab-rl; default $MS_ASSET_DIR/data/mshab_checkpoints, else ./mshab_checkpoints.")] = None,
    episodes_from: Annotated[Path | None, typer.Option(help="Run the layouts and episode seeds recorded in this dataset (its first --episodes per column) instead of the split's layouts.")] = None,
    workers: Annotated[int, typer.Option(help="Processes on this machine; results equal --workers 1 for the same seeds.")] = EvalConfig.workers,
    action_noise: Annotated[float, typer.Option(help="Std of Gaussian noise on executed actions, in [0, 1] (as generate --action-noise): robustness to actuation noise.")] = EvalConfig.action_noise,
    set_: Annotated[list[str] | None, typer.Option("--set", help="The checkpoint's inference settings, repeatable: flow.execute=8, flow.temporal_ensemble=true (with flow.execute=1), flow.steps=5, and the same action.* for the token head.")] = None,
) -> None:
    """Evaluate policies or a trained checkpoint on every subtask column of a task and print the success table."""
    from hab_aux.eval.harness import evaluate_task
    from hab_aux.devices import check_device
    from hab_aux.eval.policies import HEAD_CHOICES, checkpoint_factory
    from hab_aux.generate.policies import check_policies, policy_factory
    from hab_aux.eval.report import success_table, write_json

    the_task = get_task(task)
    if episodes_from is not None:  # one line for a folder that is not a dataset, before the simulator loads
        from hab_aux.store import open_dataset

        open_dataset(episodes_from)
    chosen = parse_subtasks(the_task, subtasks)
    check_num_envs(num_envs, sim_backend)
    check_device(device)
    choose("head", head, HEAD_CHOICES)
    if policy is None:
        policy = "expert,random" if checkpoint else "random"
    names = [p.strip() for p in policy.split(",") if p.strip() and p.strip() != "none"]
    # checked before a checkpoint or the simulator loads
    checkpoints = check_policies(names, world, the_task.name, select_columns(the_task, chosen), (split,),
                                 mshab_checkpoints)  # fmt: skip
    factories = {name: policy_factory(name, checkpoints) for name in names}
    if checkpoint is not None:
        factories = {f"sgvla {checkpoint.name} ({head})": checkpoint_factory(checkpoint, head, device, tuple(set_ or ())), **factories}
    elif set_:
        raise UserError(f"--set {set_[0]!r} changes a checkpoint's inference settings: pass --checkpoint")
    if not factories:
        raise UserError(f"no policy to evaluate in --policy {policy!r}; valid: random, zero, release, expert, mshab-rl, or a --checkpoint")
    config = EvalConfig(episodes=episodes, split=split, seed=seed, sim_backend=sim_backend, num_envs=num_envs, video_dir=video,
                        world=world, episodes_from=episodes_from, workers=workers,
                        action_noise=action_noise)  # fmt: skip
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with environmental_faults(lambda what: f"evaluation stopped: {what} (writing --video {video}?); rerun when it is writable"):
        with Progress(*columns, console=console, transient=True) as progress:
            rows = evaluate_task(the_task, factories, config, progress, subtasks=chosen)
    console.print(success_table(the_task.name, rows, config.source))
    if json_path is not None:
        with environmental_faults(lambda what: f"writing --json {json_path} failed: {what}; the table above holds the results"):
            write_json(json_path, the_task.name, split, rows, config.source)
        console.print(f"wrote {json_path}")

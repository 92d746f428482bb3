"""`habaux generate`: roll out a policy (the expert by default) and record a sharded zarr dataset."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hab_aux.generate.plan import GenerateConfig
from hab_aux.generate.run import Launch


def command(
    task: Annotated[str, typer.Option(help="SetTable, TidyHouse or PrepareGroceries.")] = "SetTable",
    episodes: Annotated[int, typer.Option(help="Episodes to keep (exact; a rerun resumes up to this count).")] = 100,
    subtasks: Annotated[str | None, typer.Option(help="Comma-separated subtasks (pick,place,open,close) or columns (open-drawer, close-fridge, ...); default: all of the task's.")] = None,
    split: Annotated[str, typer.Option(help="Layout split: train (default) or val.")] = GenerateConfig.split,
    out: Annotated[Path | None, typer.Option(help="Dataset folder (default: data/<task>).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes on this machine.")] = Launch.workers,
    seed: Annotated[int, typer.Option(help="Seed of layouts, spawns and expert noise.")] = GenerateConfig.seed,
    policy: Annotated[str, typer.Option(help="Policy to record: expert (default), expert-mid (the expert with its per-episode choices at the middle of their ranges), random, zero, release, or mshab-rl (MS-HAB's RL checkpoint of each subtask and object; --world mshab).")] = GenerateConfig.policy,
    keep_failures: Annotated[bool, typer.Option(help="Keep failed episodes too (labelled success=false); each counts.")] = GenerateConfig.keep_failures,
    max_steps: Annotated[int, typer.Option(help="Step budget per episode (MS-HAB: 200).")] = GenerateConfig.max_steps,
    shard_index: Annotated[int, typer.Option(help="This job's slice of the run, for SLURM arrays ($SLURM_ARRAY_TASK_ID).")] = Launch.shard_index,
    num_shards: Annotated[int, typer.Option(help="Number of slices the run is split into (the array size).")] = Launch.num_shards,
    ray: Annotated[str | None, typer.Option("--ray", help="Run workers as Ray tasks on this cluster address ('auto', 'ray://host:10001').")] = None,
    sim_backend: Annotated[str, typer.Option(help="cpu (physx_cpu + sapien_cpu) or gpu (physx_cuda + sapien_cuda).")] = Launch.sim_backend,
    num_envs: Annotated[int, typer.Option(help="Parallel envs per worker (more than 1 needs --sim-backend gpu).")] = Launch.num_envs,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset in --out made with other options or schema.")] = Launch.overwrite,
    world: Annotated[str, typer.Option(help="procedural (our homes) or mshab (MS-HAB's ReplicaCAD envs: needs its code and assets).")] = GenerateConfig.world,
    mshab_checkpoints: Annotated[Path | None, typer.Option(help="Folder of MS-HAB's RL checkpoints (holds rl/<task>/<subtask>/<object>/) for --policy mshab-rl; default $MS_ASSET_DIR/data/mshab_checkpoints, else ./mshab_checkpoints.")] = None,
    settle_steps: Annotated[int, typer.Option(help="Steps recorded after the success step, the expert holding still (flagged after_success); 0 ends at success.")] = GenerateConfig.settle_steps,
    action_noise: Annotated[float, typer.Option(help="Std of Gaussian noise on executed actions (normalised units, in [0, 1]); recorded actions stay the expert's clean ones (DART recovery data).")] = GenerateConfig.action_noise,
    depth_codec: Annotated[str, typer.Option(help="How depth is stored, losslessly: delta-zstd (default; 0.71x of zstd alone, 0.4 ms per frame to encode) or jpegxl (JPEG-XL effort 7: 0.57x, 5.7 ms per frame).")] = GenerateConfig.depth_codec,
) -> None:
    """Generate a dataset of expert episodes with multi-view RGB-D and auxiliary labels."""
    from hab_aux.generate.policies import check_policies
    from hab_aux.generate.run import generate

    config = GenerateConfig.parse(task, subtasks, split=split, seed=seed, policy=policy, keep_failures=keep_failures,
                                  max_steps=max_steps, world=world, settle_steps=settle_steps,
                                  action_noise=action_noise, depth_codec=depth_codec)  # fmt: skip
    launch = Launch(episodes=episodes, out=out or Path("data") / config.task, workers=workers, shard_index=shard_index,
                    num_shards=num_shards, sim_backend=sim_backend, num_envs=num_envs, overwrite=overwrite, ray_address=ray)  # fmt: skip
    checkpoints = check_policies([policy], config.world, config.task, config.columns, (config.split,),
                                 mshab_checkpoints)  # fmt: skip
    config = replace(config, mshab_checkpoints=checkpoints)
    console = Console()
    manifest = generate(config, launch, console)
    console.print(f"{launch.out}: {manifest['num_episodes']} episodes, {manifest['num_steps']} steps "
                  f"in {len(manifest['shards'])} shards")  # fmt: skip

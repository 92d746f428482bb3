"""`habaux inspect`: summary, mask previews, videos and verification of a dataset (no simulator)."""

from pathlib import Path

import typer
from rich.console import Console

from hab_aux.errors import UserError


def command(
    dataset: Path = typer.Argument(..., help="dataset folder (holds manifest.json)"),
    episode: int = typer.Option(0, "--episode", help="episode index for --out, --video and --rerun"),
    out: Path | None = typer.Option(None, "--out", help="write mask previews of the episode to this PNG"),
    video: Path | None = typer.Option(None, "--video", help="write the episode as .mp4 or .gif"),
    rerun: Path | None = typer.Option(
        None, "--rerun", help="log the episode to this .rrd file for the Rerun viewer (pip install 'hab-aux[interop]')"
    ),
    verify: bool = typer.Option(False, "--verify", help="check schema, manifest and every chunk; exit 1 on problems"),
    replay: int | None = typer.Option(
        None, "--replay", help="re-simulate episode K from its seeds with its recorded actions and compare (needs the simulator)"
    ),
    rebuild_manifest: bool = typer.Option(
        False, "--rebuild-manifest", help="rewrite manifest.json from the shards found (after merging shard folders)"
    ),
) -> None:
    """Print counts and label statistics of DATASET; optionally previews, a video, a Rerun recording, a replay, or a full check."""
    from hab_aux.inspect.summary import print_summary, summarize
    from hab_aux.inspect.video import check_video_path
    from hab_aux.store import build_manifest, open_dataset

    console = Console()
    if (verify or rebuild_manifest) and not dataset.is_dir():
        raise UserError(f"no dataset at {dataset}: not a folder")
    if rebuild_manifest:
        manifest = build_manifest(dataset)
        shards, episodes = len(manifest["shards"]), manifest["num_episodes"]
        console.print(f"wrote {dataset / 'manifest.json'}: {shards} shards, {episodes} episodes")
    if verify:
        from hab_aux.inspect.verify import verify_dataset

        problems = verify_dataset(dataset)
        for p in problems:
            console.print(f"[red]problem:[/red] {p}", highlight=False, soft_wrap=True)
        if problems:
            console.print(f"[red]{len(problems)} problem(s) in {dataset}[/red]")
            raise typer.Exit(1)
        console.print(f"[green]ok:[/green] {dataset}: every shard, array and chunk checked")
    ds = open_dataset(dataset)
    if out or video or rerun:  # one-line errors before any work
        ds.episode_bounds(episode)
    if replay is not None:
        ds.episode_bounds(replay)
    if video:
        check_video_path(video)
    if rerun:
        from hab_aux.inspect.rerun import check_rrd_path

        check_rrd_path(rerun)
    print_summary(summarize(ds), str(dataset), console)
    if out:
        from hab_aux.inspect.previews import mask_preview

        console.print(f"wrote {mask_preview(ds, episode, out)}")
    if video:
        from hab_aux.inspect.video import episode_video

        console.print(f"wrote {episode_video(ds, episode, video)}")
    if rerun:
        from hab_aux.inspect.rerun import episode_recording

        console.print(f"wrote {episode_recording(ds, episode, rerun)} (open it with: rerun {rerun})")
    if replay is not None:
        from hab_aux.generate.replay import replay_episode, replay_table

        report = replay_episode(dataset, replay)
        console.print(replay_table(report))
        if not report.matches:
            raise typer.Exit(1)

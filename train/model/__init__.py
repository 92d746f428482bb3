"""The SG-VLA model (lerobot-style layout; importing this package imports nothing heavy).

configuration_sgvla  frozen dataclass configs: inputs, vision, LLM, flow expert, decoder table, stages
action_tokenizer     ActionStats (q01/q99 normalisation) and ActionBins (256 uniform bins)
tokenizer            AutoTokenizer loading, the offline tiny tokenizer, the 256 new action tokens
processor            schema-keyed numpy samples -> SGVLABatch
vision               fused DINOv2-with-registers + SigLIP patch features, projector
flow_expert          pi0-style flow-matching expert (cross-attends to the VLM prefix)
decoders, losses     auxiliary decoders (Table 1) and their per-sample, label-masked losses
modeling_sgvla       SGVLAModel: forward(batch, stage) -> named losses; action/flow/aux prediction
build                build_model (from_pretrained or random from arch), build_meta_model, parameter_counts
"""

"""The vision-language filter of the asset bank: prompt, answer parsing, scoring, backends
(local transformers Qwen2.5-VL, OpenAI-compatible HTTP) and the resumable run (locally or on Ray)."""

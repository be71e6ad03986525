-- wrk request script: POST one OpenAI-shaped embeddings request per call (model name from the MODEL env var).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local model = os.getenv("MODEL") or "m"
local texts = {
  "a gorgeous, witty, seductive movie.",
  "the plot is nothing but boilerplate and it drags",
  "an utterly charming and hilarious film that reaffirms your faith in cinema",
  "bleak and desperate",
}
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"model":"%s","input":"%s (%d)"}', model, texts[(i % #texts) + 1], i % 1000)
  return wrk.format(nil, "/v1/embeddings", nil, body)
end

-- Each request to a function chosen at random among N deployed to `motif serve`, by
-- host: GET PATH with `Host: PREFIX<i>.localhost`, i uniform in 1..N (bench-serve.sh,
-- density). Arguments after wrk's `--`: N, PREFIX, PATH.
local n, prefix, path

function init(args)
    n = tonumber(args[1]) or error("usage: wrk ... -s random-function.lua URL -- N PREFIX PATH")
    prefix = args[2] or "d"
    path = args[3] or "/"
    -- Each wrk thread has its own Lua state: a seed of its own, so threads differ.
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
    return wrk.format("GET", path, { Host = prefix .. math.random(n) .. ".localhost" })
end

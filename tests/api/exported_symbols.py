"""libcrowdrt.so exports the public API only: every dynamic symbol it defines is in crowdrt::v0 (the public
namespace) or is crowdrt::Error's; nothing of the internal modules leaks. usage: exported_symbols.py LIB"""
import re
import subprocess
import sys

out = subprocess.run(["nm", "-DC", "--defined-only", sys.argv[1]], check=True, capture_output=True, text=True).stdout
names = [line.split(" ", 2)[2] for line in out.splitlines() if line.count(" ") >= 2]
public = re.compile(r"^(crowdrt::v0::|typeinfo for crowdrt::Error|typeinfo name for crowdrt::Error|vtable for crowdrt::Error"
                    r"|crowdrt::Error::|CROWDRT_0$)")
leaks = [n for n in names if not public.match(n)]
required = ["crowdrt::v0::Engine::Engine(", "crowdrt::v0::Builder::build(", "crowdrt::v0::FrameSource::next(",
            "crowdrt::v0::Preprocessor::process(", "typeinfo for crowdrt::Error"]
missing = [r for r in required if not any(n.startswith(r) for n in names)]
print(f"{len(names)} exported symbols")
if leaks or missing:
    sys.exit(f"leaked: {leaks[:20]}\nmissing: {missing}")

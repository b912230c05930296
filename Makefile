# ClearOci. `make demo` and `make test` work on a fresh Debian 12 (as root): they install what
# they need (deps), build, and run.
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   PREFIX/bin/clearoci and the guest assets in
#                                                 PREFIX/share/clearoci (docs/ENGINES.md registers
#                                                 it with docker, podman and containerd)
PREFIX ?= /usr/local
CLEAROCI_CACHE ?= /var/cache/clearoci
export CLEAROCI_CACHE
DOTNET ?= dotnet
OUT := $(CURDIR)/out
SHARE := $(OUT)/share/clearoci
APT_PACKAGES := qemu-system-x86 qemu-utils linux-source-6.1 busybox-static flex bison bc libelf-dev \
  libssl-dev build-essential e2fsprogs clang lld zlib1g-dev python3 cpio xz-utils runc crun \
  docker.io containerd podman iproute2 util-linux curl
DEMO_BUNDLE := $(OUT)/fixtures/demo

.PHONY: all deps build agent assets fixtures test unit demo bench install clean

all: build assets

# Installing docker.io/containerd must not start the host's daemons (the engine tests start
# private ones): a policy-rc.d that refuses service starts is in place during the install.
deps:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && \
	    trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); fi
	@command -v $(DOTNET) >/dev/null || { echo "the .NET 10 SDK is needed (dotnet on PATH)" >&2; exit 1; }
	$(DOTNET) restore ClearOci.sln

build:
	$(DOTNET) publish src/ClearOci.Cli -c Release -o $(OUT)/bin --nologo -v quiet
	$(DOTNET) publish src/ClearOci.Shim -c Release -o $(OUT)/bin --nologo -v quiet

agent:
	$(DOTNET) publish src/ClearOci.Agent -c Release -o $(OUT)/agent --nologo -v quiet

assets: agent
	@set -e; \
	kernel=$$(src/guest/build-kernel.sh); \
	image=$$(src/guest/build-image.sh $(OUT)/agent/clearoci-agent); \
	initramfs=$$(src/guest/build-initramfs.sh $(OUT)/agent/clearoci-agent); \
	v=$$(src/guest/activate.sh $(SHARE) $$kernel $$image $$initramfs); \
	echo "guest assets $$v in $(SHARE)/current"

fixtures:
	spec-fixtures/make-busybox-bundle.sh $(OUT)/fixtures/busybox

demo: deps build assets fixtures
	@spec-fixtures/make-busybox-bundle.sh $(DEMO_BUNDLE) >/dev/null
	@python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["process"]["args"]=["sh","-c","echo guest kernel: $$(uname -r); echo hello from a container in a VM"]; json.dump(c,open(p,"w"),indent=2)' $(DEMO_BUNDLE)/config.json
	$(OUT)/bin/clearoci --root $(OUT)/run run --bundle $(DEMO_BUNDLE) demo-$$$$

test: deps build assets fixtures
	tests/run-tests.sh

unit:
	tests/run-tests.sh --unit

bench: deps build assets fixtures
	benchmarks/lifecycle.sh

# The runtime, then its guest assets (a new version beside the old ones; `current` switched with
# a rename, so running VMs keep theirs).
install: build assets
	install -D -m 0755 $(OUT)/bin/clearoci $(DESTDIR)$(PREFIX)/bin/clearoci
	install -D -m 0755 $(OUT)/bin/containerd-shim-clearoci-v2 $(DESTDIR)$(PREFIX)/bin/containerd-shim-clearoci-v2
	@set -e; v=$$(cat $(SHARE)/current/version); \
	src/guest/activate.sh $(DESTDIR)$(PREFIX)/share/clearoci $(SHARE)/current/vmlinux $(SHARE)/current/clearoci.img $(SHARE)/current/initramfs.cpio.gz >/dev/null; \
	echo "installed clearoci to $(DESTDIR)$(PREFIX)/bin, guest assets $$v to $(DESTDIR)$(PREFIX)/share/clearoci"
# containerd shim v2 (containerd-shim-clearoci-v2): its install lines go here, in this recipe.

clean:
	rm -rf $(OUT)
	find src tests benchmarks -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +

# purple-msnp: build, install and test. `make install` and `make test` each first install the
# Debian packages they need (apt-get, through sudo when not root), so a fresh machine needs
# nothing else but Rust.

CARGO ?= cargo
PKG_CONFIG ?= pkg-config
PLUGIN_NAME := libpurple-msnp.so
USER_PLUGIN_DIR := $(HOME)/.purple/plugins
STUB := target/purple-stub/purple-stub

BUILD_PACKAGES := libpurple-dev libglib2.0-dev pkg-config gcc make
TEST_PACKAGES := $(BUILD_PACKAGES) finch tmux valgrind libclang-dev clang python3 bitlbee-libpurple \
	pidgin xvfb xdotool imagemagick

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build install install-system uninstall deps-build deps-test test check unit \
	integration e2e stub bindings bindings-check fmt clippy clean

all: build

# Installs whichever of the listed Debian packages are missing.
define ensure_packages
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

deps-build:
	$(call ensure_packages,$(BUILD_PACKAGES))

deps-test:
	$(call ensure_packages,$(TEST_PACKAGES))

build: deps-build
	$(CARGO) build --release --lib

# Installs into the user's plugin folder, where Pidgin and Finch both look.
install: build
	install -d $(USER_PLUGIN_DIR)
	install -m 0644 target/release/libpurple_msnp.so $(USER_PLUGIN_DIR)/$(PLUGIN_NAME)
	@echo "Installed $(USER_PLUGIN_DIR)/$(PLUGIN_NAME); restart Pidgin or Finch."
	@echo "Pidgin's protocol icon needs the system-wide pixmaps: make install-system."

# System-wide install (root): plugin into libpurple's plugin dir, icons into Pidgin's pixmaps.
install-system: build
	$(SUDO) install -D -m 0644 target/release/libpurple_msnp.so $$($(PKG_CONFIG) --variable=plugindir purple)/$(PLUGIN_NAME)
	for size in 16 22 48; do \
		$(SUDO) install -D -m 0644 icons/msn-$$size.png /usr/share/pixmaps/pidgin/protocols/$$size/msn.png; \
	done
	$(SUDO) install -D -m 0644 icons/msn.svg /usr/share/pixmaps/pidgin/protocols/scalable/msn.svg

uninstall:
	rm -f $(USER_PLUGIN_DIR)/$(PLUGIN_NAME)

stub: deps-test
	$(MAKE) -C purple-stub

# Everything CI runs.
test: deps-test check unit integration e2e memcheck

check: deps-test bindings-check
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --features test-hooks -- -D warnings
	./scripts/check-standalone.sh
	python3 scripts/check-entries.py
	$(CARGO) build --lib --features test-hooks
	python3 scripts/min-purple-version.py target/debug/libpurple_msnp.so
	@test "$$(nm -D --defined-only target/debug/libpurple_msnp.so | awk '{print $$3}')" = purple_init_plugin \
		&& echo "exports: purple_init_plugin only"

unit: deps-test
	$(CARGO) test --workspace --lib --bins --features test-hooks

integration: deps-test stub
	$(CARGO) build --lib --features test-hooks
	$(CARGO) test --workspace --test '*' --features test-hooks

# Finch's protocol list, then real Pidgin under Xvfb signed in to the test server: windows checked
# by title, screenshots in target/screens.
e2e: deps-test build
	./scripts/finch-smoke.sh target/release/libpurple_msnp.so
	python3 scripts/pidgin-screens.py target/release/libpurple_msnp.so target/screens

bindings: deps-test
	$(CARGO) build --features bindgen
	cp "$$(ls -t target/debug/build/purple-msnp-*/out/bindings.rs | head -1)" src/purple/ffi/bindings.rs

bindings-check: deps-test
	$(CARGO) build --features bindgen
	diff -u src/purple/ffi/bindings.rs "$$(ls -t target/debug/build/purple-msnp-*/out/bindings.rs | head -1)" \
		&& echo "bindings: up to date"

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean

# The integration scenarios with purple-stub under valgrind: no invalid access, no definite leak.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --suppressions=$(CURDIR)/purple-stub/valgrind.supp
MEMCHECK_TESTS ?= --test foundation --test signin --test contacts --test conversations --test pictures \
	--test transfers --test reliability \
	--test emoticons
memcheck: deps-test stub
	$(CARGO) build --lib --features test-hooks
	PURPLE_STUB_WRAPPER="$(VALGRIND)" $(CARGO) test --features test-hooks $(MEMCHECK_TESTS) -- --test-threads=2

# End-to-end benchmark (plugin in purple-stub against the test server) plus the core-only
# criterion figure; the table is printed and written to BENCH.md. Never part of `make test`.
bench: deps-test stub
	$(CARGO) build --release --lib
	$(CARGO) bench -p msnp --bench core -- --warm-up-time 1 --measurement-time 5
	$(CARGO) run --release -p msnp-bench -- --out BENCH.md

# Fault-injection soak (tests/soak/): three clients on real libpurple against the test server
# dropping connections, splitting writes and failing SOAP calls; prints the counts. `make test`
# runs it for 60 s as part of the integration tests; this runs it for SOAK_SECONDS (10 min).
# SOAK_SEED replays a run; SOAK_DEBUG=1 keeps the logs in target/soak-logs.
SOAK_SECONDS ?= 600
SOAK_SEED ?= $(shell date +%s)
.PHONY: soak
soak: deps-test stub
	$(CARGO) build --lib --features test-hooks
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SEED=$(SOAK_SEED) $(CARGO) test --features test-hooks \
		--test soak -- --nocapture

# Fuzzing (see FUZZING.md): every core parser's cargo-fuzz target, run 60 s each; any finding
# fails. `fuzz-build` only builds them (CI). The targets build on stable with RUSTC_BOOTSTRAP=1.
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-build
fuzz:
	./scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-build:
	./scripts/fuzz.sh --build-only

# The example greeter bot (examples/greeter_bot.py) on a real network:
#   BOT_PASSWORD=... make bot BOT_ACCOUNT=you@example.com [BOT_ARGS="--set server=..."]
# (the public Escargot endpoints by default; see README "Networks").
.PHONY: bot
bot: deps-test stub
	$(CARGO) build --release --lib
	install -D -m 0644 target/release/libpurple_msnp.so target/bot-plugins/$(PLUGIN_NAME)
	python3 examples/greeter_bot.py --stub $(STUB) --plugins target/bot-plugins \
		--account "$(BOT_ACCOUNT)" $(BOT_ARGS)

# A newcomer's demo: the test server on loopback and Finch with two accounts chatting over it.
.PHONY: demo
demo: deps-test
	./scripts/demo.sh

# Thin wrapper over tools/install-deps.sh and CMake; all logic lives in CMakeLists.txt and the libraries.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build demo test clean format
deps:
	bash tools/install-deps.sh

build: deps
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then cmake -S . -B $(BUILD) $$(command -v ninja >/dev/null 2>&1 && echo "-G Ninja") -DCMAKE_BUILD_TYPE=Release; fi
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash tools/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)

# Convenience aliases for ./sushi.sh (the README's commands); all logic lives there, in tools/ and in CMake.
#   make test SANITIZE=1          the whole suite built with ASan + UBSan (tools/sanitize.sh, build-san/)
#   make fuzz FUZZ_SECONDS=N      each libFuzzer target for N seconds (tools/fuzz.sh)
#   make lint                     clang-tidy on the project's own code (tools/lint.sh, .clang-tidy)
.PHONY: demo test build clean fuzz lint
demo build:
	./sushi.sh $@
test:
ifeq ($(SANITIZE),1)
	./sushi.sh test-sanitize
else
	./sushi.sh test
endif
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) ./sushi.sh fuzz
lint:
	./sushi.sh lint
clean:
	rm -rf build build-san

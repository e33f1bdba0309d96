# Convenience aliases for ./sushi.sh (the README's commands); all logic lives there and in CMake.
.PHONY: demo test build clean
demo test build:
	./sushi.sh $@
clean:
	rm -rf build

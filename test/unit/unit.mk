# Test-only objects; used as: make -f Makefile -f test/unit/unit.mk <target>
build/test/unit/confdump.so: test/unit/confdump.c build/src/config.o build/src/config_check.o $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -shared -o $@ test/unit/confdump.c build/src/config.o build/src/config_check.o

build/test/unit/capi_client.so: test/unit/capi_client.c include/mod_python.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -shared -o $@ test/unit/capi_client.c

/*
 * rtrlib prefix-table benchmark harness for rovkit (benchmarks/src/peers/rtrlib.ts builds
 * and runs it). Loads VRPs into a pfx_table with pfx_table_add, validates every route with
 * pfx_table_validate, prints one JSON object on stdout and writes one result byte per route.
 *
 * Usage: rtrlib_bench VRPS ROUTES REPETITIONS RESULTS
 *
 * Input files are written by the TypeScript side in this machine's byte order. Every
 * section is padded to a multiple of 4 bytes:
 *   VRPS:   u32 magic 0x31505256 ("VRP1"), u32 n4, u32 n6, u32 0,
 *           u32 addr[n4], u32 asn[n4], u8 len[n4], u8 maxlen[n4],
 *           u32 words[4*n6] (most significant first), u32 asn[n6], u8 len[n6], u8 maxlen[n6]
 *   ROUTES: u32 magic 0x31545452 ("RTT1"), u32 n4, u32 n6, u32 0,
 *           u32 addr[n4], u32 origin[n4], u8 len[n4],
 *           u32 words[4*n6], u32 origin[n6], u8 len[n6]
 * RESULTS: n4 + n6 bytes in route order (IPv4 first): 0 not found, 1 valid, 2 invalid.
 * They come from the last repetition; every repetition validates every route.
 *
 * The table is not freed at exit: pfx_table_free on a large table is slow and the
 * process ends anyway.
 */
#define _POSIX_C_SOURCE 200809L

#include <rtrlib/lib/ip.h>
#include <rtrlib/pfx/pfx.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VRPS_MAGIC 0x31505256u
#define ROUTES_MAGIC 0x31545452u

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set in KiB from /proc/self/status ("VmRSS" or "VmHWM"), or -1. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long value = -1;
	size_t n = strlen(key);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			value = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "rtrlib_bench: %s: %s\n", what, detail);
	exit(1);
}

static unsigned char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long length;
	if (f == NULL)
		die("cannot open", path);
	if (fseek(f, 0, SEEK_END) != 0 || (length = ftell(f)) < 16 || fseek(f, 0, SEEK_SET) != 0)
		die("cannot size or too short", path);
	data = malloc((size_t)length);
	if (data == NULL || fread(data, 1, (size_t)length, f) != (size_t)length)
		die("cannot read", path);
	fclose(f);
	*size = (size_t)length;
	return data;
}

/* A cursor over sections; every section starts on a 4-byte boundary. */
struct cursor {
	unsigned char *data;
	size_t size;
	size_t offset;
	const char *path;
};

static void *take(struct cursor *c, size_t bytes)
{
	void *at;
	if (c->offset + bytes > c->size)
		die("truncated file", c->path);
	at = c->data + c->offset;
	c->offset += (bytes + 3) & ~(size_t)3;
	return at;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: rtrlib_bench VRPS ROUTES REPETITIONS RESULTS\n");
		return 2;
	}
	int repetitions = atoi(argv[3]);
	if (repetitions < 1)
		die("bad repetitions", argv[3]);

	struct cursor v = {0};
	v.path = argv[1];
	v.data = read_file(argv[1], &v.size);
	uint32_t *vh = take(&v, 16);
	if (vh[0] != VRPS_MAGIC)
		die("not a VRPS file", argv[1]);
	uint32_t vn4 = vh[1], vn6 = vh[2];
	uint32_t *v4addr = take(&v, 4 * (size_t)vn4);
	uint32_t *v4asn = take(&v, 4 * (size_t)vn4);
	uint8_t *v4len = take(&v, vn4);
	uint8_t *v4max = take(&v, vn4);
	uint32_t *v6words = take(&v, 16 * (size_t)vn6);
	uint32_t *v6asn = take(&v, 4 * (size_t)vn6);
	uint8_t *v6len = take(&v, vn6);
	uint8_t *v6max = take(&v, vn6);

	struct cursor r = {0};
	r.path = argv[2];
	r.data = read_file(argv[2], &r.size);
	uint32_t *rh = take(&r, 16);
	if (rh[0] != ROUTES_MAGIC)
		die("not a ROUTES file", argv[2]);
	uint32_t rn4 = rh[1], rn6 = rh[2];
	uint32_t *r4addr = take(&r, 4 * (size_t)rn4);
	uint32_t *r4origin = take(&r, 4 * (size_t)rn4);
	uint8_t *r4len = take(&r, rn4);
	uint32_t *r6words = take(&r, 16 * (size_t)rn6);
	uint32_t *r6origin = take(&r, 4 * (size_t)rn6);
	uint8_t *r6len = take(&r, rn6);

	/* Both files stay mapped in memory; RSS before the load includes them. */
	long rss_before = status_kib("VmRSS");
	struct pfx_table table;
	pfx_table_init(&table, NULL);
	long added = 0, duplicates = 0, errors = 0;
	struct pfx_record record;
	memset(&record, 0, sizeof(record));
	record.socket = NULL;

	double t0 = seconds();
	record.prefix.ver = LRTR_IPV4;
	for (uint32_t i = 0; i < vn4; i++) {
		record.asn = v4asn[i];
		record.prefix.u.addr4.addr = v4addr[i];
		record.min_len = v4len[i];
		record.max_len = v4max[i];
		int rc = pfx_table_add(&table, &record);
		if (rc == PFX_SUCCESS)
			added++;
		else if (rc == PFX_DUPLICATE_RECORD)
			duplicates++;
		else
			errors++;
	}
	record.prefix.ver = LRTR_IPV6;
	for (uint32_t i = 0; i < vn6; i++) {
		record.asn = v6asn[i];
		memcpy(record.prefix.u.addr6.addr, v6words + 4 * (size_t)i, 16);
		record.min_len = v6len[i];
		record.max_len = v6max[i];
		int rc = pfx_table_add(&table, &record);
		if (rc == PFX_SUCCESS)
			added++;
		else if (rc == PFX_DUPLICATE_RECORD)
			duplicates++;
		else
			errors++;
	}
	double load_seconds = seconds() - t0;
	long rss_after = status_kib("VmRSS");

	uint8_t *results = malloc((size_t)rn4 + rn6 + 1);
	if (results == NULL)
		die("out of memory", "results");
	/* pfxv_state → rovkit order: VALID 0 → 1, NOT_FOUND 1 → 0, INVALID 2 → 2. */
	static const uint8_t state_code[3] = {1, 0, 2};

	printf("{\"vrps\":{\"v4\":%u,\"v6\":%u,\"added\":%ld,\"duplicates\":%ld,\"errors\":%ld},", vn4, vn6, added,
	       duplicates, errors);
	printf("\"loadSeconds\":%.9f,\"rssBeforeLoadKiB\":%ld,\"rssAfterLoadKiB\":%ld,", load_seconds, rss_before,
	       rss_after);
	printf("\"routes\":{\"v4\":%u,\"v6\":%u},\"repetitions\":[", rn4, rn6);

	long failures = 0;
	struct lrtr_ip_addr prefix;
	memset(&prefix, 0, sizeof(prefix));
	for (int rep = 0; rep < repetitions; rep++) {
		enum pfxv_state state;
		double s4 = seconds();
		prefix.ver = LRTR_IPV4;
		for (uint32_t i = 0; i < rn4; i++) {
			prefix.u.addr4.addr = r4addr[i];
			if (pfx_table_validate(&table, r4origin[i], &prefix, r4len[i], &state) != PFX_SUCCESS) {
				failures++;
				results[i] = 255;
				continue;
			}
			results[i] = state_code[state];
		}
		double s6 = seconds();
		prefix.ver = LRTR_IPV6;
		for (uint32_t i = 0; i < rn6; i++) {
			memcpy(prefix.u.addr6.addr, r6words + 4 * (size_t)i, 16);
			if (pfx_table_validate(&table, r6origin[i], &prefix, r6len[i], &state) != PFX_SUCCESS) {
				failures++;
				results[rn4 + i] = 255;
				continue;
			}
			results[rn4 + i] = state_code[state];
		}
		double end = seconds();
		printf("%s{\"v4Seconds\":%.9f,\"v6Seconds\":%.9f}", rep == 0 ? "" : ",", s6 - s4,
		       end - s6);
	}

	long counts[3] = {0, 0, 0};
	for (size_t i = 0; i < (size_t)rn4 + rn6; i++)
		if (results[i] < 3)
			counts[results[i]]++;
	FILE *out = fopen(argv[4], "wb");
	if (out == NULL || fwrite(results, 1, (size_t)rn4 + rn6, out) != (size_t)rn4 + rn6 || fclose(out) != 0)
		die("cannot write", argv[4]);

	printf("],\"validateErrors\":%ld,\"counts\":{\"notFound\":%ld,\"valid\":%ld,\"invalid\":%ld},", failures,
	       counts[0], counts[1], counts[2]);
	printf("\"peakRssKiB\":%ld}\n", status_kib("VmHWM"));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Meerkat's emulated-Pi test (test/system/pi-test.sh) only: an I2C adapter, /dev/i2c-N with
 * i2c-dev, whose chips are register files, as QEMU's at24c EEPROM model is. A write's first byte
 * (two for a chip with 16-bit command codes) sets the register pointer, the bytes after it are
 * stored from there on; a read returns bytes from the pointer on. So the test loads a chip's
 * register map through the bus itself, and a driver's write-then-read finds what the datasheet puts
 * there: BME280 (calibration, chip id, raw data), SHT3x (the 16-bit command as the address of the
 * six bytes it returns), BH1750 (the opcode as the address of its two bytes), ADS1115 (its pointer
 * selecting a 16-bit register). An address with no chip NACKs (-ENXIO), as an empty bus does.
 *
 * Parameters: bus (the adapter's number), addrs (7-bit addresses) and modes, one per address:
 * 1 an 8-bit pointer to bytes, 2 a 16-bit pointer to bytes, 3 an 8-bit pointer to 16-bit registers.
 */
#include <linux/i2c.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static int bus = 1;
module_param(bus, int, 0444);
static int addrs[8];
static int naddrs;
module_param_array(addrs, int, &naddrs, 0444);
static int modes[8];
static int nmodes;
module_param_array(modes, int, &nmodes, 0444);

struct sim_chip {
	int mode;
	u32 size;
	u32 cursor;
	u8 *mem;
};

static struct sim_chip chips[128];
static DEFINE_MUTEX(sim_lock);

static int sim_write(struct sim_chip *c, const u8 *buf, u16 len)
{
	u32 ptr, i, n = c->mode == 2 ? 2 : 1;

	if (len == 0)
		return 0; /* a quick write: the chip answers */
	if (len < n)
		return -EIO;
	ptr = n == 2 ? (buf[0] << 8 | buf[1]) : buf[0];
	c->cursor = (c->mode == 3 ? ptr * 2 : ptr) % c->size;
	for (i = n; i < len; i++) {
		c->mem[c->cursor] = buf[i];
		c->cursor = (c->cursor + 1) % c->size;
	}
	return 0;
}

static void sim_read(struct sim_chip *c, u8 *buf, u16 len)
{
	u16 i;

	for (i = 0; i < len; i++) {
		buf[i] = c->mem[c->cursor];
		c->cursor = (c->cursor + 1) % c->size;
	}
}

static int sim_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	int i, ret = num;

	mutex_lock(&sim_lock);
	for (i = 0; i < num; i++) {
		struct i2c_msg *m = &msgs[i];
		struct sim_chip *c = m->addr < 128 ? &chips[m->addr] : NULL;

		if (!c || !c->mem || (m->flags & I2C_M_TEN)) {
			ret = -ENXIO;
			break;
		}
		if (m->flags & I2C_M_RD) {
			sim_read(c, m->buf, m->len);
		} else {
			ret = sim_write(c, m->buf, m->len);
			if (ret)
				break;
			ret = num;
		}
	}
	mutex_unlock(&sim_lock);
	return ret;
}

static u32 sim_func(struct i2c_adapter *adap)
{
	return I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL;
}

static const struct i2c_algorithm sim_algo = {
	.master_xfer = sim_xfer,
	.functionality = sim_func,
};

static struct i2c_adapter sim_adapter = {
	.owner = THIS_MODULE,
	.algo = &sim_algo,
	.name = "meerkat-i2c-sim",
};

static void sim_free(void)
{
	int i;

	for (i = 0; i < 128; i++) {
		kfree(chips[i].mem);
		chips[i].mem = NULL;
	}
}

static int __init sim_init(void)
{
	int i, ret;

	if (naddrs != nmodes)
		return -EINVAL;
	for (i = 0; i < naddrs; i++) {
		struct sim_chip *c;

		if (addrs[i] < 0x03 || addrs[i] > 0x77 || modes[i] < 1 || modes[i] > 3) {
			sim_free();
			return -EINVAL;
		}
		c = &chips[addrs[i]];
		c->mode = modes[i];
		c->size = c->mode == 2 ? 65536 : 512;
		c->mem = kzalloc(c->size, GFP_KERNEL);
		if (!c->mem) {
			sim_free();
			return -ENOMEM;
		}
	}
	sim_adapter.nr = bus;
	ret = i2c_add_numbered_adapter(&sim_adapter);
	if (ret)
		sim_free();
	return ret;
}

static void __exit sim_exit(void)
{
	i2c_del_adapter(&sim_adapter);
	sim_free();
}

module_init(sim_init);
module_exit(sim_exit);
MODULE_DESCRIPTION("Register-file I2C chips for Meerkat's emulated-Pi test");
MODULE_LICENSE("GPL");
